#pragma once
// What the training loop (engine/train/trainer.cc) needs from a step, whichever device runs it: the CPU
// TrainStep (engine/train/train_step.h) or, with --device cuda, the GPU's twin
// (engine/train/cuda_train_step.h). The host copies (the ModelState the step was made with, params()
// and optimizer()) are brought up to date only when asked, so that a GPU step does not download its
// state after every step: sync_params() before a reader of params() (the run record, replay),
// sync_state() before a reader of the whole state or the optimizer (a checkpoint, evaluation, the
// best weights, the end of training, an unfreezing). The CPU step works on the host copies, and both
// are no-ops there; the loop (engine/train/trainer.cc) calls them either way.
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "core/error.h"
#include "engine/model/model_state.h"
#include "engine/optim/optimizer.h"
#include "engine/model/plan.h"
#include "engine/parallel/shards.h"
#include "engine/infer/logits_forward.h"
#include "engine/train/train_step.h"
#include "engine/train/trainer.h"
#include "graph/graph.h"

namespace thaw {

class StepRunner {
 public:
  virtual ~StepRunner() = default;
  // TrainStep::run's contract: the batch's mean loss before the update; weights updated with lr.
  virtual double run(const StepBatch& batch, int64_t step, double lr) = 0;
  // run(), calling `meanwhile` (when set) on this thread once while the step's own work proceeds
  // without the host: a GPU step calls it after queueing its forward and backward passes, before
  // it waits for the loss, so that host work of the step before (hashing its record line) overlaps
  // the device's work. Here: `meanwhile` first, then run().
  virtual double run_overlapping(const StepBatch& batch, int64_t step, double lr, const std::function<void()>& meanwhile) {
    if (meanwhile) meanwhile();
    return run(batch, step, lr);
  }
  // Whether run_overlapping's `meanwhile` overlaps anything (the GPU step): only then does the loop
  // hand a step's record line to the next step's run.
  virtual bool overlaps_host() const { return false; }
  // The loop's next batch, handed over from the `meanwhile` of the step before where the step
  // overlaps_host: a GPU step starts moving its pixels to the device now, behind the running step's
  // work. The loop then leaves the batch's pixels and labels as they are and passes it to the next
  // run() with StepBatch::staged set. Here: nothing to move.
  virtual void stage(const StepBatch& /*next*/) {}
  virtual Optimizer<float>& optimizer() = 0;
  virtual std::span<const ParamRef<float>> params() const = 0;
  // The trainable tensors' values after the last update and its gradients, into params().
  virtual void sync_params() {}
  // Starts bringing them, right after the step: the next sync_params() completes it with the
  // values and gradients of that step, even where the step has run again since (a GPU step
  // downloads them behind its next forward pass). Here, for a step that does not overlap the host
  // (the loop calls this only for one that does, which must override it): sync_params().
  virtual void begin_sync_params() {
    THAW_CHECK(!overlaps_host(), "a step that overlaps the host must override begin_sync_params");
    sync_params();
  }
  // Every value of the ModelState (parameters, running statistics, num_batches_tracked), the last
  // gradients and the optimizer's state, into the host copies.
  virtual void sync_state() {}
  virtual const ShardLayout& layout() const = 0;
  // Where held-out evaluation gets its logits, from the current weights in `state`: null for the CPU
  // executor (evaluate()'s own), the GPU's inference forward for the GPU step.
  virtual LogitsForward* inference(const ModelState<float>& /*state*/) { return nullptr; }
  // The step's own feature cache, for the log ("N samples computed, ..."); empty where it has none
  // (the CPU's cache is the loop's, engine/infer/feature_cache.h).
  virtual std::string cache_report() const { return {}; }
  // The library choices the step made so far (TrainSummary::gpu_plans); none on the CPU.
  virtual std::vector<std::string> plan_choices() const { return {}; }
};

// The CPU step, or the GPU step when cfg.cuda (a UserError naming --device cuda where that cannot
// run: a build without CUDA, no usable GPU, or more than one rank without a GPU comm).
std::unique_ptr<StepRunner> make_step_runner(const Graph& g, const Plan& plan, ModelState<float>& state,
                                             const TrainConfig& cfg);

}  // namespace thaw
