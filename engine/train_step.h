#pragma once
// One optimizer step over a global batch: forward, loss, backward, update. The trainer's loop
// decides which samples and which learning rate; this decides how the gradient is computed. It is
// the unit that data parallelism cuts into virtual shards and that the feature cache feeds with
// boundary activations instead of pixels.
#include <cstdint>
#include <span>
#include <vector>

#include "core/tensor.h"
#include "engine/executor.h"
#include "engine/model_state.h"
#include "engine/optimizer.h"
#include "engine/plan.h"
#include "engine/trainer.h"
#include "graph/graph.h"

namespace thaw {

struct StepBatch {
  const Tensor<float>* x = nullptr;  // [B, 3, H, W] normalised pixels
  std::span<const int32_t> labels;   // B labels
};

class TrainStep {
 public:
  TrainStep(const Graph& g, const Plan& plan, ModelState<float>& state, const TrainConfig& cfg);

  // Mean loss of the batch (before the update); the weights are updated with learning rate lr.
  // A non-finite loss is a UserError naming --lr, raised before any weight changes.
  double run(const StepBatch& batch, int64_t step, double lr);

  Optimizer<float>& optimizer() { return opt_; }
  std::span<const ParamRef<float>> params() const { return opt_.params(); }

 private:
  const Graph& g_;
  const TrainConfig& cfg_;
  Executor<float> exec_;
  Optimizer<float> opt_;
  Tensor<float> dlogits_;
};

}  // namespace thaw
