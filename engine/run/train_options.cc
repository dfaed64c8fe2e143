#include "engine/run/train_options.h"

#include "core/error.h"
#include "engine/data/loader.h"
#include "engine/gpu/cuda_device.h"
#include "engine/model/mixed_precision.h"
#include "engine/optim/layer_decay.h"
#include "engine/parallel/shards.h"
#include "io/datasets.h"

namespace thaw {

namespace {

OptimizerConfig optimizer_config(const RunConfig& a) {
  OptimizerConfig o;
  o.kind = parse_optimizer_kind(a.optimizer);
  o.momentum = a.momentum;
  o.nesterov = a.nesterov;
  o.weight_decay = a.weight_decay;
  o.beta1 = a.beta1;
  o.beta2 = a.beta2;
  o.eps = a.eps;
  validate_optimizer_config(o);
  return o;
}

LrScheduleConfig schedule_config(const RunConfig& a) {
  LrScheduleConfig s;
  s.kind = parse_lr_schedule_kind(a.lr_schedule);
  s.base_lr = a.lr;
  s.warmup_steps = a.warmup_steps;
  s.warmup_start_factor = a.warmup_start_factor;
  s.gamma = a.lr_gamma;
  s.min_lr = a.min_lr;
  if (s.kind == LrScheduleConfig::Kind::Step) {
    if (a.lr_step_size < 1) fail_user("--lr-step-size: the step schedule needs a positive number of steps");
    s.step_size = a.lr_step_size;
  }
  return s;
}

void set_feature_cache(TrainConfig& cfg, const RunConfig& c) {
  if (c.feature_cache != "auto" && c.feature_cache != "off") {
    fail_user("--feature-cache: expected auto or off, got '", c.feature_cache, "'");
  }
  if (c.feature_cache_mb < 0) fail_user("--feature-cache-mb: expected 0 or more, got ", c.feature_cache_mb);
  const bool on = c.feature_cache == "auto";
  const bool fixed_pixels = parse_augment(c.augment) == Augment::None || !is_image_data(c.data);
  cfg.cache_eval = on;
  cfg.cache_train = on && fixed_pixels;
  cfg.cache_memory_bytes = c.feature_cache_mb << 20;
  cfg.cache_dir = c.out;
}

void apply_train_device(TrainConfig& cfg, const RunConfig& c, std::ostream& note) {
  cfg.cuda = c.device == "cuda";
  cfg.numerics = parse_numerics(c.precision);
  if (!cfg.cuda) {
    if (cfg.bf16() && cfg.cache_train && c.freeze_through != "none") {
      // The CPU cache's frozen part computes in fp32; the bf16 rule rounds inside it.
      note << "thaw: --precision bf16: the feature cache does not hold bf16 activations yet; training without it\n";
      cfg.cache_train = false;
    }
    return;
  }
  // The GPU step keeps the training samples' boundary activations in device memory, as its own
  // forward computed them (bf16 included); held-out evaluation runs the whole network on the GPU.
  cfg.cache_eval = false;
}

}  // namespace

void check_precision(std::string_view precision, bool emulate_bf16, std::string_view device) {
  const Numerics n = parse_numerics(precision);
  if (n == Numerics::Tf32 && device != "cuda") {
    fail_user("--precision tf32: TF32 is a GPU tensor-core mode; give --device cuda (the CPU computes in fp32)");
  }
  if (emulate_bf16 && n != Numerics::Bf16) {
    fail_user("--emulate-bf16: emulates --precision bf16 on the CPU; give --precision bf16 too");
  }
  if (emulate_bf16 && device != "cpu") {
    fail_user("--emulate-bf16: a CPU option (the GPU computes in bf16 itself); leave it out with --device cuda");
  }
  if (n == Numerics::Bf16 && device == "cpu" && !emulate_bf16) {
    fail_user("--precision bf16: the CPU has no fast bf16 arithmetic; give --emulate-bf16 to run the GPU's bf16 "
              "rounding in fp32 (slower than fp32), or --device cuda");
  }
  if (n == Numerics::Bf16 && device == "cuda") require_bf16_device();
}

void check_train_device(const RunConfig& c) {
  if (c.device != "cpu" && c.device != "cuda") fail_user("--device: expected cpu or cuda, got '", c.device, "'");
  check_precision(c.precision, c.emulate_bf16, c.device);
  if (c.device == "cuda" && (c.layer_decay != 1.0 || !c.lr_groups.empty())) {
    fail_user(c.layer_decay != 1.0 ? "--layer-decay" : "--lr-groups",
              ": the GPU step has one learning rate for every parameter yet; use --device cpu");
  }
  if (c.device == "cuda" && !c.unfreeze.empty()) {
    fail_user("--unfreeze: the GPU step cannot change its freeze point during a run yet; use --device cpu");
  }
  if (c.device == "cuda") require_cuda_device();
}

Augment parse_augment(std::string_view s) {
  if (s == "random") return Augment::Random;
  if (s == "none") return Augment::None;
  fail_user("--augment: expected random or none, got '", s, "'");
}

Selection resolve_selection(const RunConfig& a) {
  const std::optional<SelectMetric> m = parse_select_metric(a.select);
  if (!m) fail_user("--select: expected val_loss, accuracy, balanced_accuracy or auc, got '", a.select, "'");
  if (a.patience < 0) fail_user("--patience: expected 0 (never stop early) or a count of epochs, got ", a.patience);
  if (!a.held_out && *m != SelectMetric::None) {
    fail_user("--select: judges each epoch on held-out data, and --val-fraction 0 leaves none");
  }
  if (a.patience > 0 && *m == SelectMetric::None) {
    fail_user("--patience: stops when the metric of --select has not improved; give --select too");
  }
  return {*m, a.patience};
}

TrainConfig resolve_train_config(const RunConfig& a, const Graph& g, BadImagePolicy on_bad_image, std::ostream& note) {
  TrainConfig cfg;
  cfg.batch_size = a.batch_size;
  cfg.epochs = a.epochs;
  cfg.max_steps = a.max_steps;
  cfg.seed = a.seed;
  cfg.freeze_block = g.find_block(a.freeze_through);
  cfg.unfreeze = parse_unfreeze(a.unfreeze, g, a.epochs);
  if (!cfg.unfreeze.empty()) {
    if (a.freeze_through != "none" && cfg.freeze_block != cfg.unfreeze.front().block) {
      fail_user("--unfreeze: its epoch-0 point is the first freeze point; --freeze-through ", a.freeze_through,
                " says another: give one of them");
    }
    cfg.freeze_block = cfg.unfreeze.front().block;
  }
  cfg.bn = parse_bn_policy(a.bn);
  cfg.optimizer = optimizer_config(a);
  if (!a.unfreeze.empty() && cfg.optimizer.kind == OptimizerConfig::Kind::AdamW) {
    // AdamW's bias correction counts the run's steps, not each tensor's: a tensor unfrozen late
    // would get too large a first update. SGD's state is exact (a zero buffer is its first step).
    fail_user("--unfreeze: with AdamW each newly trainable tensor would need its own step count; use "
              "--optimizer sgd (AdamW is not supported with --unfreeze yet)");
  }
  cfg.optimizer.lr_scale = combine_scales(layer_decay_scales(g, a.layer_decay), lr_group_scales(g, a.lr_groups));
  cfg.schedule = schedule_config(a);
  if (a.label_smoothing < 0 || a.label_smoothing >= 1) {
    fail_user("--label-smoothing: expected a value in [0, 1), got ", a.label_smoothing);
  }
  cfg.label_smoothing = a.label_smoothing;
  cfg.class_weights = a.class_weights;
  cfg.eval_batch_size = a.eval_batch_size;
  set_feature_cache(cfg, a);
  apply_train_device(cfg, a, note);
  cfg.loader.workers = resolve_workers(a.workers);
  cfg.loader.on_bad_image = on_bad_image;
  cfg.shards = resolve_shards(a.shards, a.batch_size);
  if (a.shards == 0 && cfg.batch_size >= 1) {
    const int64_t usable = usable_default_shards(
        cfg.shards, cfg.batch_size, g, make_plan(g, earliest_freeze_block(cfg.unfreeze, cfg.freeze_block), cfg.bn));
    if (usable != cfg.shards) {
      note << "thaw: --shards: the default " << cfg.shards << " would leave a batch norm one value per channel at "
           << "batch " << cfg.batch_size << "; using " << usable << "\n";
      cfg.shards = usable;
    }
  }
  cfg.selection = resolve_selection(a);
  if (!(a.stop_on_divergence == 0 || a.stop_on_divergence > 1)) {
    fail_user("--stop-factor: expected a factor above 1 (or 0: never stop), got ", a.stop_on_divergence);
  }
  cfg.stop_on_divergence = a.stop_on_divergence;
  if (cfg.batch_size >= 1) {  // train() names a bad --batch-size itself
    validate_shards(cfg, g);
  }
  return cfg;
}

}  // namespace thaw
