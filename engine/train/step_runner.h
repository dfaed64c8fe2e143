#pragma once
// What the training loop (engine/train/trainer.cc) needs from a step, whichever device runs it: the CPU
// TrainStep (engine/train/train_step.h) or, with --device cuda, the GPU's twin
// (engine/train/cuda_train_step.h). After run() returns, params() and optimizer() are on the host and
// current (values after the update, this step's gradient, the optimizer's state), so that the run
// record, checkpoints and evaluation read them the same way for both.
#include <cstdint>
#include <memory>
#include <span>

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
  virtual Optimizer<float>& optimizer() = 0;
  virtual std::span<const ParamRef<float>> params() const = 0;
  virtual const ShardLayout& layout() const = 0;
  // Where held-out evaluation gets its logits, from the current weights in `state`: null for the CPU
  // executor (evaluate()'s own), the GPU's inference forward for the GPU step.
  virtual LogitsForward* inference(const ModelState<float>& /*state*/) { return nullptr; }
  // The library choices the step made so far (TrainSummary::gpu_plans); none on the CPU.
  virtual std::vector<std::string> plan_choices() const { return {}; }
};

// The CPU step, or the GPU step when cfg.cuda (a UserError naming --device cuda where that cannot
// run: a build without CUDA, no usable GPU, or more than one rank without a GPU comm).
std::unique_ptr<StepRunner> make_step_runner(const Graph& g, const Plan& plan, ModelState<float>& state,
                                             const TrainConfig& cfg);

}  // namespace thaw
