#include "cli/run_flags.h"

#include <sstream>

#include "cli/flag_range.h"
#include "core/error.h"

namespace thaw::cli {

std::string given_command_line(const std::string& command, const CLI::App& sub) {
  std::ostringstream os;
  os << command;
  for (const auto& opt : sub.get_options()) {
    if (opt->count() == 0 || opt->get_name() == "--help") continue;
    os << ' ' << opt->get_name();
    for (const auto& r : opt->results()) os << ' ' << r;
  }
  return os.str();
}

void add_run_flags(CLI::App* sub, RunConfig& a) {
  sub->add_option("--data", a.data,
                  "Dataset: fashion-mnist, a folder of IDX files, a folder of class folders of images, a CSV "
                  "manifest, or a pack made by thaw pack (docs/data.md)")
      ->capture_default_str();
  // Given as 0 it means "no held-out data", which the default 0 (not given) does not.
  sub->add_option_function<double>(
         "--val-fraction",
         [&a](double f) {
           a.val_fraction = f;
           a.held_out = f != 0;
         },
         "Carve this fraction of train out as validation (data without a val split); 0: train on everything "
         "with no held-out evaluation")
      ->check(in_range(fraction_range()));
  sub->add_option("--rrc-scale", a.rrc_scale, "Random-resized crop: area fraction min,max")
      ->delimiter(',')
      ->expected(2)
      ->capture_default_str()->check(in_range(real(0, 1, true)));
  sub->add_option("--rrc-ratio", a.rrc_ratio, "Random-resized crop: aspect ratio min,max")
      ->delimiter(',')
      ->expected(2)
      ->capture_default_str()->check(in_range(real(0, 100, true)));
  sub->add_option("--brightness", a.brightness, "Brightness jitter: factor in [1-b, 1+b]")->capture_default_str()->check(in_range(real(0, 1)));
  sub->add_option("--contrast", a.contrast, "Contrast jitter: factor in [1-c, 1+c]")->capture_default_str()->check(in_range(real(0, 1)));
  sub->add_option("--class-subset", a.class_subset, "Only these classes of the data, renumbered: 0-4, 5,7,9 or names");
  sub->add_option("--test-fraction", a.test_fraction, "Image data: carve this fraction of train out as test first")->check(in_range(fraction_range()));
  sub->add_option("--folds", a.folds,
                                       "k-fold cross-validation of image data: K group-safe, class-stratified "
                                       "folds of every image; needs --fold (thaw sweep --folds K runs them all)")
                           ->check(in_range(whole(2, 1000)));
  sub->add_option("--fold", a.fold, "With --folds K: the fold (0 to K-1) this run tests on; the others train")
      ->check(in_range(whole(0, 999)));
  sub->add_option("--augment", a.augment, "Training augmentation: random, or none (evaluation pixels)")
      ->capture_default_str();
  sub->add_option("--feature-cache", a.feature_cache,
                  "Reuse the frozen part's output where its input repeats: auto or off (never changes the bits)")
      ->capture_default_str();
  sub->add_option("--feature-cache-mb", a.feature_cache_mb, "Feature cache memory (MiB) before it spills to disk")
      ->capture_default_str()->check(in_range(whole(0, int64_t{1} << 30)));
  sub->add_option("--weights", a.weights, "Initial weights (safetensors with timm keys); default: seeded random");
  sub->add_option("--arch,--model", a.arch, "inception_v4 or inception_v3")->capture_default_str();
  sub->add_option("--classes,--num-classes", a.classes, "Output classes (default: the dataset's)")->check(in_range(whole(0, kMaxClasses, "0: the dataset's")));
  sub->add_option("--freeze-through", a.freeze_through, "Freeze this block and all before it")->capture_default_str();
  sub->add_option("--unfreeze", a.unfreeze,
                  "Gradual unfreezing: the freeze point by epoch, moving back, e.g. mixed_7d@0,mixed_6h@2,none@4 "
                  "(epochs from 0; SGD, CPU)");
  sub->add_option("--epochs", a.epochs, "Passes over the training data")->capture_default_str()->check(in_range(whole(1, kMaxEpochs)));
  sub->add_option("--batch-size,-b", a.batch_size, "Images per step")->capture_default_str()->check(in_range(whole(1, kMaxBatch)));
  sub->add_option("--lr", a.lr, "Base learning rate")->capture_default_str()->check(in_range(real(0, 1000, true)));
  sub->add_option("--lr-schedule,--sched", a.lr_schedule, "constant, step, cosine, or range (the LR range test's exponential rise from --min-lr to --lr)")->capture_default_str();
  sub->add_option("--warmup-steps", a.warmup_steps, "Linear warm-up steps")->capture_default_str()->check(in_range(whole(0, kMaxCount)));
  sub->add_option("--warmup-start-factor", a.warmup_start_factor, "Warm-up starts at this fraction of --lr")
      ->capture_default_str()->check(in_range(real(0, 1)));
  sub->add_option("--lr-step-size", a.lr_step_size, "Step schedule: steps between decays")->check(in_range(whole(0, kMaxCount)));
  sub->add_option("--lr-gamma", a.lr_gamma, "Step schedule: decay factor")->capture_default_str()->check(in_range(real(0, 1, true)));
  sub->add_option("--min-lr", a.min_lr, "Cosine schedule: final learning rate")->capture_default_str()->check(in_range(real(0, 1000)));
  sub->add_option("--optimizer,--opt", a.optimizer, "sgd or adamw")->capture_default_str();
  sub->add_option("--beta1", a.beta1, "AdamW beta1")->capture_default_str()->check(in_range(fraction_range()));
  sub->add_option("--beta2", a.beta2, "AdamW beta2")->capture_default_str()->check(in_range(fraction_range()));
  sub->add_option("--eps", a.eps, "AdamW epsilon")->capture_default_str()->check(in_range(real(0, 1, true)));
  sub->add_option("--layer-decay", a.layer_decay,
                  "Layer-wise rate decay (timm's): block b of B learns at lr x D^(B-1-b), the head at lr")
      ->capture_default_str()
      ->check(in_range(real(0, 1, true)));
  sub->add_option("--lr-groups", a.lr_groups,
                  "Rates by block ranges, e.g. conv2d_1a..mixed_5e=0.1,mixed_6a..mixed_6h=0.3 (others at lr)");
  sub->add_option("--mlflow", a.mlflow,
                  "Also write the finished run into this MLflow file store (params, metrics, artifacts)");
  sub->add_option("--tensorboard", a.tensorboard,
                  "Also write the finished run's loss, rate and held-out metrics as a TensorBoard event file under "
                  "this log folder (tensorboard --logdir DIR)");
  sub->add_option("--select", a.select,
                  "Keep the best epoch's weights as best.safetensors by a held-out metric: val_loss, accuracy, "
                  "balanced_accuracy or auc (macro one-vs-rest)");
  sub->add_option("--patience", a.patience,
                  "With --select: stop when the metric has not improved for N epochs in a row")
      ->capture_default_str()
      ->check(in_range(whole(0, kMaxEpochs, "0: never stop early")));
  sub->add_option("--momentum", a.momentum, "SGD momentum")->capture_default_str()->check(in_range(fraction_range()));
  sub->add_flag("--nesterov", a.nesterov, "Nesterov momentum");
  sub->add_option("--weight-decay", a.weight_decay, "Weight decay (conv and linear weights)")->capture_default_str()->check(in_range(real(0, 1000)));
  sub->add_option("--label-smoothing,--smoothing", a.label_smoothing, "Label smoothing in [0, 1)")->capture_default_str()->check(in_range(fraction_range()));
  sub->add_option("--class-weights", a.class_weights, "Per-class loss weights, comma separated")->delimiter(',')->check(in_range(real(0, 1e6, true)));
  sub->add_option("--bn", a.bn, "Batch norm in trainable blocks: train or frozen")->capture_default_str();
  sub->add_option("--dropout,--drop", a.dropout, "Dropout before the classifier")->capture_default_str()->check(in_range(fraction_range()));
  sub->add_option("--seed", a.seed, "Seed of every random choice")->capture_default_str()->check(in_range(seed_range()));
  sub->add_option("--input-size", a.input_size, "Input height and width (>= 75)")->capture_default_str()->check(in_range(input_size_range()));
  sub->add_option("--out,--output", a.out, "Run folder for weights and logs (required unless --resume)");
  sub->add_flag("--overwrite", a.overwrite, "Replace a run already in --out");
  sub->add_option("--threads", a.threads, "CPU threads (0: all cores)")->capture_default_str()->check(in_range(threads_range()));
  add_max_image_pixels_flag(sub, a.max_image_pixels);
  add_pixel_mapping_flags(sub, a.window, a.dicom_frame);
  sub->add_option("--train-limit", a.train_limit, "Use only the first N training samples")->check(in_range(whole(0, kMaxCount, "0: all")));
  sub->add_option("--val-limit", a.val_limit, "Use only the first N held-out samples")->check(in_range(whole(0, kMaxCount, "0: all")));
  sub->add_option("--max-steps", a.max_steps, "Stop after N steps")->check(in_range(whole(0, kMaxCount, "0: no limit")));
  sub->add_option("--eval-batch-size", a.eval_batch_size, "Images per evaluation batch")->capture_default_str()->check(in_range(whole(1, kMaxBatch)));
  sub->add_option("--workers", a.workers, "Data loader threads (0: one per core); never changes the bits")
      ->capture_default_str()->check(in_range(whole(0, kMaxThreads, "0: one per core")));
  sub->add_option("--on-bad-image", a.on_bad_image,
                  "An unreadable image: fail (stop) or skip (left out, listed in the run folder's skipped.txt)")
      ->capture_default_str();
  sub->add_option("--shards", a.shards,
                  "Virtual shards of each batch (a power of two dividing --batch-size; batch norm sees one shard); "
                  "default 8 where it divides the batch size (fewer where a batch norm would see one value per channel), "
                  "else 1")->check(in_range(whole(0, kMaxBatch, "0: 8 where it divides the batch, else 1")));
  sub->add_option("--device", a.device,
                  "Where the training step and its held-out evaluation run: cpu, or cuda (GPU 0, one rank)")
      ->capture_default_str();
  sub->add_option("--precision", a.precision,
                  "fp32; tf32 with --device cuda (TF32 tensor cores in convolutions and matrix products); bf16 "
                  "(bf16 activations and weight copies, fp32 master weights; on the CPU with --emulate-bf16)")
      ->capture_default_str();
  sub->add_flag("--emulate-bf16", a.emulate_bf16,
                "With --precision bf16 on the CPU: the GPU's bf16 rounding emulated in fp32 arithmetic (slower "
                "than fp32; for checking what bf16 does to a run without a GPU)");
}

void check_fold_flags(const CLI::App& sub, const RunConfig& a, bool from_record) {
  const bool folds = sub.get_option("--folds")->count() > 0, fold = sub.get_option("--fold")->count() > 0;
  if (fold && a.folds == 0) fail_user("--fold: picks one of the folds of --folds K; give --folds too");
  if (folds && !fold && !from_record) {
    fail_user("--folds ", a.folds, ": give --fold I (0 to ", a.folds - 1,
              "), the fold this run tests on; thaw sweep --folds K runs every fold");
  }
}

}  // namespace thaw::cli
