#pragma once
// What one training loop is asked to do (engine/train/trainer.h), as the run setup resolves it from
// a RunConfig (engine/run/run_setup.h), and the checks and parts that follow from it alone.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <vector>

#include "engine/gpu/op_fusions.h"
#include "engine/model/mixed_precision.h"
#include "engine/data/loader.h"
#include "engine/infer/feature_cache.h"
#include "engine/model/model_state.h"
#include "engine/model/plan.h"
#include "engine/optim/lr_schedule.h"
#include "engine/optim/optimizer.h"
#include "engine/train/best_epoch.h"
#include "engine/train/metrics_log.h"
#include "engine/train/unfreeze.h"
#include "graph/graph.h"

namespace thaw {

class Comm;
class TrainHook;
class EpochObserver;
class StepRunner;

struct TrainConfig {
  int64_t batch_size = 32;
  int64_t epochs = 1;
  int64_t max_steps = 0;  // > 0 stops early (smoke runs, benchmarks)
  uint64_t seed = 0;
  int freeze_block = -1;
  // --unfreeze: the freeze point by epoch (engine/train/unfreeze.h); empty: freeze_block throughout.
  // With a schedule, freeze_block is its epoch-0 point.
  std::vector<UnfreezePoint> unfreeze;
  BnPolicy bn = BnPolicy::Train;
  OptimizerConfig optimizer;
  LrScheduleConfig schedule;  // total_steps is filled in from epochs x steps per epoch
  double label_smoothing = 0;
  std::vector<float> class_weights;  // empty: all 1
  int64_t eval_batch_size = 64;
  int64_t eval_limit = 0;  // > 0: evaluate on the first N held-out samples only
  // Feature cache (engine/infer/feature_cache.h): the frozen part's output computed once per sample and
  // reused, for training batches (only where their pixels never change: no augmentation) and for
  // the held-out evaluations. Never changes the bits.
  bool cache_train = false, cache_eval = false;
  int64_t cache_memory_bytes = int64_t{2} << 30;
  std::filesystem::path cache_dir;  // the spill file's folder (empty: the system's temporary folder)
  std::filesystem::path out_dir;  // metrics.jsonl is written here when set
  bool interactive = false;       // progress redraws in place
  LoaderOptions loader;           // workers and --on-bad-image (engine/data/loader.h); skips go to out_dir/skipped.txt
  // Data parallelism (engine/train/train_step.h, engine/parallel/shards.h): the batch in `shards` virtual shards
  // (V); `ranks` (N) replicas of this loop, connected by `comm` (null: one rank).
  int64_t shards = 1;
  int ranks = 1;
  Comm* comm = nullptr;
  // --device cuda: the step runs on GPU `gpu` (engine/train/cuda_train_step.h, engine/train/step_runner.h).
  // GPU ranks reduce their gradients over `gpu_comm` (device memory, engine/parallel/gpu_comm.h;
  // the same rank and size as `comm`, which carries what lives on the host); null with one rank.
  bool cuda = false;
  int gpu = 0;
  Comm* gpu_comm = nullptr;
  // --precision (engine/model/mixed_precision.h): tf32, the GPU step's convolutions and matrix
  // products on TF32 tensor cores; bf16, the step follows the bf16 rule (on the CPU emulated in fp32
  // arithmetic, --emulate-bf16). Evaluation computes in fp32 either way.
  Numerics numerics = Numerics::Fp32;
  bool bf16() const { return numerics == Numerics::Bf16; }
  // The GPU step folds its frozen conv-bn-relu groups (engine/gpu/op_fusions.h): the same model,
  // other float roundings than the CPU's. Off for tests that compare the two op by op.
  bool gpu_fold_frozen = true;
  // Activations in channels-last storage (engine/gpu/op_fusions.h ChannelsLast): the frozen front,
  // or all of them. Off until a GPU has measured it; thaw bench --channels-last front|all.
  ChannelsLast gpu_channels_last = ChannelsLast::off;
  // Each folded group's convolution, bias and ReLU as one cuDNN graph where an engine takes it
  // (CudaExecutor::set_fused_epilogue). Off until a GPU has measured it; thaw bench --fuse-epilogue.
  bool gpu_fused_epilogue = false;
  // One shard on one rank: the step (forward, loss, backward, update) captured into a CUDA graph at
  // its second step and launched whole at every step after (CudaTrainStep::run_captured). Off until
  // a GPU has measured it; thaw bench --cuda-graph.
  bool gpu_graph = false;
  // A replay's pins: the recorded run's GPU library choices ("problem: identity" lines,
  // TrainSummary::gpu_plans), taken again wherever the library still offers them.
  std::vector<std::string> gpu_pins;
  // Floats per gradient bucket (engine/parallel/grad_buckets.h; 0: kOverlapBucketFloats). Never changes
  // the bits; tests make it small to get many buckets.
  int64_t gradient_bucket_floats = 0;
  // Checkpoints and resume (engine/train/train_hook.h, engine/run/train_resume.h): the steps already done
  // and the loss sum of those in the epoch the run resumes in; the hook restores the optimizer,
  // writes checkpoints and may stop the run.
  int64_t start_step = 0;
  double start_epoch_loss_sum = 0;
  double start_epoch_seconds = 0;  // the stopped epoch's time before the stop, for its summary
  TrainHook* hook = nullptr;
  // --select / --patience (engine/train/best_epoch.h); a resumed run's epochs before its stop.
  Selection selection;
  std::vector<EpochResult> epochs_before;
  // > 0: stop after the step whose smoothed loss (engine/train/loss_smoother.h) is above this
  // factor times its lowest (`thaw lr-find`'s --stop-factor). 0: never.
  double stop_on_divergence = 0;
  // Told of every epoch's end, with whether it is the best so far (rank 0 only: the best weights' writer).
  EpochObserver* epoch_observer = nullptr;
  // Makes the loop's step in place of make_step_runner (engine/train/step_runner.h); null: that.
  // For tests of the loop against a step of their own.
  std::function<std::unique_ptr<StepRunner>(const Graph&, const Plan&, ModelState<float>&, const TrainConfig&)>
      step_maker;
};

// Checks the run's batch size, shards and ranks (TrainConfig::batch_size, shards, ranks) against
// the graph and its plan (engine/parallel/shards.h; UserError naming the flag).
void validate_shards(const TrainConfig& cfg, const Graph& g);

// The cache a training run uses (TrainConfig::cache_train / cache_eval), or null where it has
// none: neither is asked for, the plan has no boundary to cache at, or the run makes only one
// pass (`epochs`: the epochs it will run), where nothing would be read back.
std::unique_ptr<FeatureCache> make_feature_cache(const Graph& g, const Plan& plan, ModelState<float>& state,
                                                 const TrainConfig& cfg, int64_t epochs);

}  // namespace thaw
