#include "engine/run/run_setup.h"

#include <iostream>

#include "core/error.h"
#include "core/sha256.h"
#include "engine/model/batch_memory.h"
#include "engine/model/weights_io.h"
#include "engine/run/split_options.h"
#include "engine/run/train_options.h"
#include "engine/model/weights_origin.h"
#include "engine/train/unfreeze.h"
#include "io/dataset_view.h"
#include "io/datasets.h"

namespace thaw {

namespace {

DataOptions data_options(const RunConfig& a) {
  DataOptions data = split_options(a);
  data.on_bad_image = parse_bad_image_policy(a.on_bad_image);
  if (a.rrc_scale.size() != 2) fail_user("--rrc-scale: expected two values min,max, got ", a.rrc_scale.size());
  if (a.rrc_ratio.size() != 2) fail_user("--rrc-ratio: expected two values min,max, got ", a.rrc_ratio.size());
  data.augment.scale_min = a.rrc_scale[0];
  data.augment.scale_max = a.rrc_scale[1];
  data.augment.ratio_min = a.rrc_ratio[0];
  data.augment.ratio_max = a.rrc_ratio[1];
  data.augment.brightness = a.brightness;
  data.augment.contrast = a.contrast;
  validate_augment(data.augment);
  return data;
}

// Only whole batches train: with fewer images than one batch not one step would run.
void check_one_batch(const Dataset& train, int64_t batch_size) {
  if (train.size() < batch_size) {
    fail_user("--batch-size ", batch_size, ": the training data has ", train.size(),
              " images (after --train-limit and the held-out splits), fewer than one batch; give a smaller "
              "--batch-size or more images");
  }
}

// The training and held-out data, full and as limited; UserErrors for data nothing can be learnt from.
void open_data(RunSetup& r, const RunConfig& a, const DataOptions& data) {
  // Class subsets, and training without augmentation (io/dataset_view.h); the study options.
  r.train_full = with_class_subset(open_dataset(a.data, DataSplit::Train, data), a.class_subset);
  if (parse_augment(a.augment) == Augment::None) r.train_full = without_augmentation(std::move(r.train_full));
  if (r.train_full->num_classes() < 2) {  // a softmax over one class has nothing to learn
    fail_user("--data ", a.data, ": ", r.train_full->num_classes(), " class",
              a.class_subset.empty() ? "" : " in --class-subset " + a.class_subset,
              "; expected at least 2 classes to tell apart");
  }
  if (!a.held_out) {  // --val-fraction 0: said once, by the run (engine/run/run_training.cc)
    r.train_data = std::make_unique<SubsetDataset>(*r.train_full, a.train_limit > 0 ? a.train_limit : r.train_full->size());
    check_one_batch(*r.train_data, a.batch_size);
    return;
  }
  if (a.folds != 0 && a.val_fraction == 0) {
    fail_user("--folds: every image is in a fold, the data's own validation rows too; give --val-fraction F to "
              "carve validation out of the training folds, or --val-fraction 0 for none");
  }
  r.val_full = with_class_subset(open_dataset(a.data, held_out_split(a.data, data), data), a.class_subset);
  if (r.val_full->size() == 0) {
    fail_user("--data ", a.data, ": no validation images to evaluate on; give --val-fraction (e.g. 0.2) or val rows "
              "in the manifest's split column");
  }
  r.train_data = std::make_unique<SubsetDataset>(*r.train_full, a.train_limit > 0 ? a.train_limit : r.train_full->size());
  check_one_batch(*r.train_data, a.batch_size);
  r.val_data = std::make_unique<SubsetDataset>(*r.val_full, a.val_limit > 0 ? a.val_limit : r.val_full->size());
}

}  // namespace

RunSetup setup_run(const RunConfig& a) {
  RunSetup r;
  check_train_device(a);  // before any file is opened
  const DataOptions data = data_options(a);
  open_data(r, a, data);
  r.data_root = data_source_root(a.data);
  r.classes = a.classes > 0 ? a.classes : r.train_full->num_classes();
  r.graph = build_graph_for(a.arch, a.input_size, r.classes, a.dropout, a.weights);
  r.train = resolve_train_config(a, r.graph, data.on_bad_image, std::cerr);
  // Before any step: a batch that cannot fit ends here in one line, not in std::bad_alloc mid-run.
  // With --unfreeze: at its earliest freeze point, where the step keeps the most for backward.
  check_training_batch_memory(
      r.graph, make_plan(r.graph, earliest_freeze_block(r.train.unfreeze, r.train.freeze_block), r.train.bn),
      a.batch_size);
  check_inference_batch_memory(r.graph, a.eval_batch_size, "--eval-batch-size");
  return r;
}

InitialState initial_state(const RunConfig& a, const Graph& g) {
  InitialState s;
  if (a.weights.empty()) {
    s.state = ModelState<float>::random(g, a.seed);
    s.source = "random:" + std::to_string(a.seed);
    return s;
  }
  s.state = ModelState<float>::zeros(g);
  const LoadReport rep = load_weights(a.weights, g, s.state, a.seed);  // its errors name the file best
  s.file_sha256 = sha256_file_hex(a.weights);
  s.source = a.weights;
  if (rep.head_reinitialised) s.note = rep.note;
  return s;
}

}  // namespace thaw
