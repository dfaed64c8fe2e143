#pragma once
// Three SGD steps of a whole network on the GPU from `init` (synthetic batches of seed 5, the
// step's key), for the determinism tests: run twice, they must leave the same bits. Returns the
// state after the steps; each step's loss is appended to `losses`. bf16: under the bf16 rule.
#include <cstdint>
#include <vector>

#include "engine/gpu/cuda_executor.h"
#include "engine/gpu/cuda_optimizer.h"
#include "engine/data/synthetic.h"

namespace thaw::cuda_test {

inline ModelState<float> three_sgd_steps(cuda::Context& ctx, const Graph& g, const Plan& plan,
                                         const ModelState<float>& init, const OptimizerConfig& oc, int64_t batch,
                                         int64_t size, int64_t classes, std::vector<double>& losses,
                                         bool bf16 = false) {
  CudaExecutor exec(ctx, g, plan, init, bf16);
  CudaOptimizer opt(exec, oc);
  Tensor<float> x;
  std::vector<int32_t> labels;
  for (int64_t s = 0; s < 3; ++s) {
    synthetic_batch(5, s, batch, size, classes, x, labels);
    cuda::DeviceBuffer<float> d_x(static_cast<size_t>(x.numel()));
    d_x.upload(x.data(), static_cast<size_t>(x.numel()), ctx.stream());
    cuda::DeviceBuffer<int32_t> d_labels(labels.size());
    d_labels.upload(labels.data(), labels.size(), ctx.stream());
    exec.forward(d_x.data(), batch, Phase::Train, {5, s, 0});
    losses.push_back(exec.loss(d_labels.data()));
    exec.backward();
    opt.step(0.01);
    ctx.synchronize("training step");  // d_x and d_labels die with this iteration
  }
  ModelState<float> out = ModelState<float>::zeros(g);
  exec.download(out);
  return out;
}

}  // namespace thaw::cuda_test
