#pragma once
// The training loop: epochs of shuffled batches, forward/backward over the plan, optimizer step,
// a progress line, a metrics log and an evaluation on held-out data after each epoch.
#include <cstdint>
#include <filesystem>
#include <ostream>
#include <span>
#include <vector>

#include "engine/loader.h"
#include "engine/lr_schedule.h"
#include "engine/model_state.h"
#include "engine/optimizer.h"
#include "engine/plan.h"
#include "graph/graph.h"
#include "io/dataset.h"

namespace thaw {

class Comm;
class TrainHook;

struct TrainConfig {
  int64_t batch_size = 32;
  int64_t epochs = 1;
  int64_t max_steps = 0;  // > 0 stops early (smoke runs, benchmarks)
  uint64_t seed = 0;
  int freeze_block = -1;
  BnPolicy bn = BnPolicy::Train;
  OptimizerConfig optimizer;
  LrScheduleConfig schedule;  // total_steps is filled in from epochs x steps per epoch
  double label_smoothing = 0;
  std::vector<float> class_weights;  // empty: all 1
  int64_t eval_batch_size = 64;
  int64_t eval_limit = 0;  // > 0: evaluate on the first N held-out samples only
  // Feature cache (engine/feature_cache.h): the frozen part's output computed once per sample and
  // reused, for training batches (only where their pixels never change: no augmentation) and for
  // the held-out evaluations. Never changes the bits.
  bool cache_train = false, cache_eval = false;
  int64_t cache_memory_bytes = int64_t{2} << 30;
  std::filesystem::path cache_dir;  // the spill file's folder (empty: the system's temporary folder)
  std::filesystem::path out_dir;  // metrics.jsonl is written here when set
  bool interactive = false;       // progress redraws in place
  LoaderOptions loader;           // workers and --on-bad-image (engine/loader.h); skips go to out_dir/skipped.txt
  // Data parallelism (engine/train_step.h, engine/shards.h): the batch in `shards` virtual shards
  // (V); `ranks` (N) replicas of this loop, connected by `comm` (null: one rank).
  int64_t shards = 1;
  int ranks = 1;
  Comm* comm = nullptr;
  // --device cuda: the step runs on GPU 0 (engine/cuda_train_step.h, one rank; engine/step_runner.h).
  bool cuda = false;
  // --precision tf32: the GPU step's convolutions and matrix products on TF32 tensor cores.
  bool tf32 = false;
  // Floats per gradient bucket (engine/grad_buckets.h; 0: kOverlapBucketFloats). Never changes
  // the bits; tests make it small to get many buckets.
  int64_t gradient_bucket_floats = 0;
  // Checkpoints and resume (engine/train_hook.h, engine/train_resume.h): the steps already done
  // and the loss sum of those in the epoch the run resumes in; the hook restores the optimizer,
  // writes checkpoints and may stop the run.
  int64_t start_step = 0;
  double start_epoch_loss_sum = 0;
  TrainHook* hook = nullptr;
};

// One step as an observer (run record, replay) sees it, right after the optimizer's update.
struct StepInfo {
  int64_t step = 0;
  int64_t epoch = 0;
  double lr = 0;
  double loss = 0;
  std::span<const int64_t> indices;         // the batch's sample indices, in batch order
  // Trainable tensors in state_dict order: values after the update, gradients of this step.
  std::span<const ParamRef<float>> params;
};

class StepObserver {
 public:
  virtual ~StepObserver() = default;
  // Called after every update; returning false ends training after this step (the epoch's
  // evaluation still runs).
  virtual bool on_step(const StepInfo& info) = 0;
};

struct EpochResult {
  int64_t epoch = 0;
  int64_t steps = 0;
  double train_loss = 0;  // mean over the epoch's steps
  double seconds = 0;
  double images_per_s = 0;
  double val_loss = 0, val_accuracy = -1;  // -1 when there is no held-out data
  double eval_seconds = 0;                 // the held-out evaluation after the epoch
};

struct TrainSummary {
  int64_t steps = 0;
  int64_t trainable_parameters = 0;
  std::vector<EpochResult> epochs;
  bool halted = false;  // the hook stopped the run before its last step (a signal, --stop-at-step)
};

// Steps a run makes: whole batches per epoch (the last partial batch is dropped) times epochs,
// capped by max_steps.
int64_t planned_steps(const TrainConfig& cfg, int64_t train_size);

TrainSummary train(const Graph& g, ModelState<float>& state, const Dataset& train_data, const Dataset* val_data,
                   const TrainConfig& cfg, std::ostream& log, StepObserver* observer = nullptr);

}  // namespace thaw
