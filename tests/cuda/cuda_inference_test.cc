// Held-out evaluation on the GPU (engine/gpu/cuda_inference.h): the logits of a whole network as
// inference, folded, against the CPU executor's at 299 (within float rounding: the measured
// difference printed), twice the same bits, and after refresh() the new weights' logits.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "engine/data/synthetic.h"
#include "engine/gpu/cuda_inference.h"
#include "engine/model/executor.h"
#include "graph/inception_v4.h"
#include "tests/cuda/cuda_test_util.h"

namespace thaw::cuda_test {
namespace {

using CudaInferenceTest = CudaTest;

double max_diff(std::span<const float> a, const Tensor<float>& b, double* scale) {
  double worst = 0;
  *scale = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    worst = std::max(worst, std::fabs(double{a[i]} - b[static_cast<int64_t>(i)]));
    *scale = std::max(*scale, std::fabs(double{b[static_cast<int64_t>(i)]}));
  }
  return worst;
}

TEST_F(CudaInferenceTest, LogitsMatchTheCpuExecutorAndFollowRefresh) {
  const Graph g = build_inception_v4(299, 10);
  ModelState<float> state = ModelState<float>::random(g, 3);
  Tensor<float> x;
  std::vector<int32_t> labels;
  synthetic_batch(4, 0, 3, 299, 10, x, labels);
  const Plan frozen = make_plan(g, static_cast<int>(g.blocks.size()) - 1, BnPolicy::Frozen);
  Executor<float> cpu(g, frozen, state);
  const Tensor<float> want = cpu.forward(x, Phase::Eval);

  CudaInference gpu(ctx(), g, state);
  const std::span<const float> once = gpu.logits(x);
  const std::vector<float> first(once.begin(), once.end());
  const std::span<const float> again = gpu.logits(x);
  ASSERT_EQ(first.size(), static_cast<size_t>(want.numel()));
  EXPECT_EQ(std::memcmp(first.data(), again.data(), first.size() * sizeof(float)), 0);
  double scale = 0;
  const double d = max_diff(first, want, &scale);
  std::printf("[inference] 299 batch 3, folded: max |gpu - cpu| %.3g of %.3g\n", d, scale);
  EXPECT_LE(d, 1e-3 * scale);

  ModelState<float> moved = ModelState<float>::random(g, 4);
  gpu.refresh(moved);
  Executor<float> cpu2(g, frozen, moved);
  const Tensor<float> want2 = cpu2.forward(x, Phase::Eval);
  EXPECT_LE(max_diff(gpu.logits(x), want2, &scale), 1e-3 * scale);
}

}  // namespace
}  // namespace thaw::cuda_test
