#include "engine/optim/param_refs.h"

namespace thaw {

std::vector<ParamRef<float>> trainable_param_refs(const Graph& g, const Plan& plan, ModelState<float>& state,
                                                  const Executor<float>& exec) {
  std::vector<ParamRef<float>> refs;
  refs.reserve(plan.trainable_tensors.size());
  for (int t : plan.trainable_tensors) {
    const TensorSpec& spec = g.tensors[t];
    refs.push_back({spec.name, state.values[t].data(), exec.grads()[t].data(), state.values[t].numel(),
                    spec.role == TensorRole::Weight});
  }
  return refs;
}

}  // namespace thaw
