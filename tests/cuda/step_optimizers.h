#pragma once
// The optimizers the GPU step tests train with (cuda_train_step_test.cc, cuda_graph_step_test.cc):
// SGD with Nesterov momentum and weight decay, and AdamW with a large eps so that its update is
// smooth in the gradient (tolerance.h, training_steps; cuda_optimizer_test has the default eps).
#include "engine/optim/optimizer.h"

namespace thaw::cuda_test {

inline OptimizerConfig sgd_momentum() {
  OptimizerConfig oc;
  oc.momentum = 0.9;
  oc.nesterov = true;
  oc.weight_decay = 1e-3;
  return oc;
}

inline OptimizerConfig adamw() {
  OptimizerConfig oc;
  oc.kind = OptimizerConfig::Kind::AdamW;
  oc.weight_decay = 0.05;
  oc.eps = 0.1;
  return oc;
}

}  // namespace thaw::cuda_test
