#pragma once
// The optimizer's view of a plan's trainable tensors: values in the model state, gradients in the
// executor, weight decay on conv and linear weights only (timm's default).
#include <vector>

#include "engine/model/executor.h"
#include "engine/optim/optimizer.h"

namespace thaw {

std::vector<ParamRef<float>> trainable_param_refs(const Graph& g, const Plan& plan, ModelState<float>& state,
                                                  const Executor<float>& exec);

}  // namespace thaw
