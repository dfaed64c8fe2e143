// `thaw eval`: a model on one split of a dataset, written as a predictions file and eval.json
// (study/eval_files.h), with the summary table of `thaw stats`.
#include <iostream>
#include <memory>
#include <optional>

#include "cli/flag_range.h"
#include "cli/commands.h"
#include "engine/gpu/cuda_device.h"
#include "io/atomic_file.h"
#include "core/error.h"
#include "io/left_out_files.h"
#include "io/datasets.h"
#include "stats/summary_table.h"
#include "study/eval_files.h"
#include "study/eval_model.h"

namespace thaw::cli {

namespace {

struct EvalArgs {
  std::string weights, run, arch, out_dir;
  int64_t input_size = 299;
  RunConfig data;  // data, class_subset, val_fraction, test_fraction, folds, seed: as a run opens its data
  std::string split = "test", ci = "wilson", positive;
  std::optional<double> threshold;
  int bootstrap = 2000;
  uint64_t bootstrap_seed = 0;
  int64_t batch_size = 64, limit = 0;
  std::string on_bad_image = "fail";
  int threads = 0;
  std::string device = "cpu";
};

// --device cpu|cuda, before any file is opened (cuda: a usable GPU, else one line naming the flag).
void check_eval_device(const std::string& device) {
  if (device != "cpu" && device != "cuda") fail_user("--device: expected cpu or cuda, got '", device, "'");
  if (device == "cuda") require_cuda_device();
}

void run_eval(EvalArgs a, const CLI::App& sub) {
  check_threads(a.threads);
  check_eval_device(a.device);
  if (a.weights.empty() == a.run.empty()) fail_user("--weights or --run: give exactly one (a weights file or a run folder)");
  const auto given = [&](const char* flag) { return sub.get_option(flag)->count() > 0; };
  EvalModel model;
  std::filesystem::path out_dir = a.out_dir.empty() ? std::filesystem::path(".") : std::filesystem::path(a.out_dir);
  if (!a.run.empty()) {
    // Data options not given here are the run's, so its splits and class subset come back.
    const RunForEval run = run_for_eval(a.run);
    model = run.model;
    if (given("--input-size")) model.input_size = a.input_size;
    RunConfig d = run.config;
    if (given("--data")) d.data = a.data.data;
    if (given("--class-subset")) d.class_subset = a.data.class_subset;
    if (given("--val-fraction")) d.val_fraction = a.data.val_fraction;
    if (given("--test-fraction")) d.test_fraction = a.data.test_fraction;
    if (given("--folds")) d.folds = a.data.folds;
    if (given("--fold")) d.fold = a.data.fold;
    if (given("--seed")) d.seed = a.data.seed;
    if (given("--max-image-pixels")) d.max_image_pixels = a.data.max_image_pixels;
    if (given("--window")) d.window = a.data.window;
    if (given("--dicom-frame")) d.dicom_frame = a.data.dicom_frame;
    a.data = d;
    if (a.out_dir.empty()) out_dir = a.run;
  } else {
    if (!given("--data")) fail_user("--data: required with --weights (the dataset to evaluate on)");
    if (given("--folds") != given("--fold")) fail_user("--folds and --fold: give both (the folds, and the one to evaluate on)");
    model = model_from_weights(a.weights, a.arch, given("--input-size") ? a.input_size : 0);
    if (model.input_size_from_metadata) {
      std::cerr << "thaw: input size " << model.input_size << " from " << a.weights << " (metadata thaw_input_size)\n";
    }
  }
  if (model.input_size < 75) fail_user("--input-size: expected at least 75, got ", model.input_size);
  const std::optional<DataSplit> split = parse_split(a.split);
  if (!split) fail_user("--split: expected train, val or test, got '", a.split, "'");

  EvalFilesRequest req;
  req.stats.ci = parse_ci_method(a.ci, "--ci");
  req.stats.bootstrap_replicates = a.bootstrap;
  req.stats.seed = a.bootstrap_seed;
  req.stats.positive = a.positive;
  req.stats.threshold = a.threshold;
  req.batch_size = a.batch_size;
  req.limit = a.limit;
  req.split = split_name(*split);
  req.device = a.device;
  check_eval_request(model, req);

  warn_left_out_files(a.data.data, std::cerr);
  std::unique_ptr<Dataset> data = open_eval_data(a.data, *split);
  if (a.on_bad_image != "fail" && a.on_bad_image != "skip") {
    fail_user("--on-bad-image: expected fail or skip, got '", a.on_bad_image, "'");
  }
  if (a.on_bad_image == "skip") {
    std::vector<std::string> skipped;
    data = without_unreadable(std::move(data), model.input_size, a.limit, skipped);
    if (!skipped.empty()) {
      std::filesystem::create_directories(out_dir);
      const std::filesystem::path list = out_dir / ("skipped-" + req.split + ".txt");
      std::string text;
      for (const std::string& s : skipped) text += s + "\n";
      write_file_atomic(list, text);
      std::cerr << "thaw: left out " << skipped.size() << " unreadable image" << (skipped.size() == 1 ? "" : "s")
                << " (--on-bad-image skip), listed in " << list.string() << "\n";
    }
  }
  model_class_of_data_class(model, *data);  // a class the model lacks fails before the model loads
  const Graph g = build_eval_graph(model);
  ModelState<float> state = load_eval_state(model, g);
  std::cerr << "thaw: evaluating " << model.weights.string() << " on " << data->describe() << "\n";
  const EvalFiles out = evaluate_to_files(g, state, model, *data, out_dir, req, nullptr, &std::cerr);
  std::cout << summary_table(out.eval) << "\nwrote " << out.predictions.string() << " and " << out.eval_json.string()
            << "\n";
}

}  // namespace

void add_eval(CLI::App& app) {
  auto a = std::make_shared<EvalArgs>();
  CLI::App* sub = app.add_subcommand(
      "eval", "A model on one split of a dataset: predictions CSV and eval.json with confidence intervals");
  sub->add_option("--weights", a->weights, "Weights to evaluate (safetensors); or --run");
  sub->add_option("--run", a->run, "A run folder (thaw train): its weights, input size, data and class subset");
  sub->add_option("--arch", a->arch, "With --weights: the architecture (default: the file's, else inception_v4)");
  sub->add_option("--input-size", a->input_size, "With --weights: input height and width (default: the weights' thaw_input_size, else 299)")->capture_default_str()->check(in_range(input_size_range()));
  sub->add_option("--data", a->data.data, "Dataset (as thaw train's --data); with --run the run's by default");
  sub->add_option("--split", a->split, "train, val or test")->capture_default_str();
  sub->add_option("--class-subset", a->data.class_subset, "Only these classes of the data: 0-4, 5,7,9 or names");
  sub->add_option("--val-fraction", a->data.val_fraction, "The validation split carved out of train, as in training")->check(in_range(fraction_range()));
  sub->add_option("--test-fraction", a->data.test_fraction, "The test split carved out of train (image data)")->check(in_range(fraction_range()));
  sub->add_option("--folds", a->data.folds, "k-fold splits of image data, as in training (with --fold)")->check(in_range(whole(2, 1000)));
  sub->add_option("--fold", a->data.fold, "With --folds: the fold that is the test split (0 to K-1)")->check(in_range(whole(0, 999)));
  sub->add_option("--seed", a->data.seed, "Seed of those splits (as in training)")->check(in_range(seed_range()));
  sub->add_option("--out-dir", a->out_dir,
                  "Where predictions-<split>.csv and eval-<split>.json go (default: the run folder, or here)");
  sub->add_option("--ci", a->ci, "Interval for proportions: wilson or exact (Clopper-Pearson)")->capture_default_str();
  sub->add_option("--positive", a->positive, "Class for the binary view (sensitivity/specificity of that class)");
  sub->add_option("--threshold", a->threshold,
                  "With --positive: positive when p(positive) >= T; choose T on validation data (--split val), "
                  "never on the test set")->check(in_range(real(0, 1)));
  sub->add_option("--bootstrap", a->bootstrap, "Bootstrap replicates for the macro metrics")->capture_default_str()->check(in_range(whole(1, 1000000)));
  sub->add_option("--bootstrap-seed", a->bootstrap_seed, "Seed of the bootstrap resampling")->capture_default_str()->check(in_range(seed_range()));
  sub->add_option("--device", a->device, "Where the model runs: cpu, or cuda (GPU 0; the frozen groups folded)")
      ->capture_default_str();
  sub->add_option("--batch-size", a->batch_size, "Images per forward pass")->capture_default_str()->check(in_range(whole(1, kMaxBatch)));
  sub->add_option("--limit", a->limit, "Evaluate the first N samples only")->check(in_range(whole(0, kMaxCount, "0: all")));
  sub->add_option("--on-bad-image", a->on_bad_image,
                  "An unreadable image stops the evaluation (fail) or is left out and listed in "
                  "OUT_DIR/skipped-<split>.txt (skip)")
      ->capture_default_str();
  sub->add_option("--threads", a->threads, "CPU threads (0: all cores)")->capture_default_str()->check(in_range(threads_range()));
  add_max_image_pixels_flag(sub, a->data.max_image_pixels);
  add_pixel_mapping_flags(sub, a->data.window, a->data.dicom_frame);
  sub->callback([a, sub] { run_eval(*a, *sub); });
}

}  // namespace thaw::cli
