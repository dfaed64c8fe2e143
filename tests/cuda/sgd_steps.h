#pragma once
// Three SGD steps of a whole network on the GPU from `init` (synthetic batches of seed 5, the
// step's key), for the determinism tests: run twice, they must leave the same bits. Returns the
// state after the steps; each step's loss is appended to `losses`. bf16: under the bf16 rule.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "engine/gpu/cuda_executor.h"
#include "engine/gpu/cuda_optimizer.h"
#include "engine/data/synthetic.h"
#include "graph/inception_v4.h"

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

// three_sgd_steps twice from `init`, frozen through mixed_6a at 299, batch 2, 10 classes, momentum
// 0.9: the losses and every tensor must be the same bits. `tag` names the precision in the line
// the device log keeps.
inline void expect_three_steps_twice_same_bits(cuda::Context& ctx, const std::string& tag, bool bf16) {
  const Graph g = build_inception_v4(299, 10);
  const Plan plan = make_plan(g, g.find_block("mixed_6a"), BnPolicy::Train);
  const ModelState<float> init = ModelState<float>::random(g, 7);
  OptimizerConfig oc;
  oc.momentum = 0.9;
  std::vector<double> loss_a, loss_b;
  const ModelState<float> a = three_sgd_steps(ctx, g, plan, init, oc, 2, 299, 10, loss_a, bf16);
  const ModelState<float> b = three_sgd_steps(ctx, g, plan, init, oc, 2, 299, 10, loss_b, bf16);
  for (size_t s = 0; s < loss_a.size(); ++s) {
    EXPECT_TRUE(std::isfinite(loss_a[s])) << "step " << s;
    EXPECT_EQ(std::memcmp(&loss_a[s], &loss_b[s], sizeof(double)), 0) << "loss of step " << s;
  }
  size_t differ = 0;
  for (size_t t = 0; t < g.tensors.size(); ++t) {
    const Tensor<float>& va = a.values[t];
    if (va.numel() == 0) continue;
    differ += std::memcmp(va.data(), b.values[t].data(), sizeof(float) * static_cast<size_t>(va.numel())) != 0;
  }
  std::printf("[determinism] %s, 3 SGD steps twice (frozen through mixed_6a): %zu tensors differ\n", tag.c_str(),
              differ);
  EXPECT_EQ(differ, 0u);
}

}  // namespace thaw::cuda_test
