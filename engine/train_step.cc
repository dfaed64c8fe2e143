#include "engine/train_step.h"

#include <cmath>

#include "core/error.h"
#include "engine/param_refs.h"
#include "kernels/cpu/loss.h"

namespace thaw {

TrainStep::TrainStep(const Graph& g, const Plan& plan, ModelState<float>& state, const TrainConfig& cfg)
    : g_(g), cfg_(cfg), exec_(g, plan, state), opt_(cfg.optimizer, trainable_param_refs(g, plan, state, exec_)) {}

double TrainStep::run(const StepBatch& batch, int64_t step, double lr) {
  const int64_t n = batch.x->shape()[0];
  THAW_CHECK(static_cast<int64_t>(batch.labels.size()) == n, "labels do not match the batch");
  const Tensor<float>& logits = exec_.forward(*batch.x, Phase::Train, {cfg_.seed, step, 0});
  dlogits_.reshape_uninit(logits.shape());
  const float* weights = cfg_.class_weights.empty() ? nullptr : cfg_.class_weights.data();
  const double loss = cpu::softmax_cross_entropy<float>(n, g_.num_classes, logits.data(), batch.labels.data(),
                                                        cfg_.label_smoothing, weights, dlogits_.data());
  if (!std::isfinite(loss)) {
    fail_user("training diverged at step ", step, " (loss ", loss, "); lower --lr (now ", cfg_.schedule.base_lr, ")");
  }
  exec_.backward(dlogits_);
  opt_.step(lr);
  return loss;
}

}  // namespace thaw
