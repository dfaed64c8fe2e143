// The frozen part folded on the GPU (engine/gpu/op_fusions.h, kernels/cuda/fold_bn.h): the folded
// weights and biases equal the CPU twin's bit for bit, bias + ReLU is exact, a group writes into a
// concatenation's slice as into its own buffer, and a whole network frozen through mixed_6h (its
// branch ends written into their concatenations) gives the unfolded executor's logits within float rounding (the measured
// difference printed; a wiring error moves logits by their own size) and the same trainable
// gradients' direction.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "engine/data/synthetic.h"
#include "engine/gpu/cuda_executor.h"
#include "graph/inception_v4.h"
#include "kernels/cpu/fold_bn.h"
#include "kernels/cuda/conv2d.h"
#include "kernels/cuda/fold_bn.h"
#include "tests/cuda/cuda_test_util.h"

namespace thaw::cuda_test {
namespace {

using FoldTest = CudaTest;

// A network, its plan, a random state and one synthetic batch.
struct Case {
  Case(int64_t size, int64_t batch, int64_t classes, const char* freeze, uint64_t seed)
      : batch(batch), g(build_inception_v4(size, classes)), plan(make_plan(g, g.find_block(freeze), BnPolicy::Train)),
        init(ModelState<float>::random(g, seed)) {
    synthetic_batch(seed, 0, batch, size, classes, x, labels);
  }
  std::vector<float> pixels() const { return {x.data(), x.data() + x.numel()}; }
  int64_t batch;
  Graph g;
  Plan plan;
  ModelState<float> init;
  Tensor<float> x;
  std::vector<int32_t> labels;
};

TEST_F(FoldTest, FoldedWeightsAndBiasReluEqualTheCpuTwin) {
  const int64_t c_out = 48, per = 32 * 9;
  const auto w = random_floats(c_out * per, 50), gamma = random_floats(c_out, 51, 0.5f, 2.0f),
             beta = random_floats(c_out, 52), mean = random_floats(c_out, 53), var = random_floats(c_out, 54, 0.05f, 4.0f);
  std::vector<float> wf(w.size()), bf(static_cast<size_t>(c_out));
  cpu::fold_batchnorm(c_out, per, 1e-3, w.data(), gamma.data(), beta.data(), mean.data(), var.data(), wf.data(),
                      bf.data());
  auto d_w = to_device(w), d_g = to_device(gamma), d_b = to_device(beta), d_m = to_device(mean), d_v = to_device(var);
  cuda::DeviceBuffer<float> d_wf(wf.size()), d_bf(bf.size());
  cuda::fold_batchnorm(ctx(), c_out, per, 1e-3, d_w.data(), d_g.data(), d_b.data(), d_m.data(), d_v.data(),
                       d_wf.data(), d_bf.data());
  EXPECT_TRUE(same_bits("folded weights", to_host(d_wf), wf));
  EXPECT_TRUE(same_bits("folded bias", to_host(d_bf), bf));
  auto y = random_floats(2 * c_out * 25, 55, -2.0f, 2.0f);
  auto d_y = to_device(y);
  cpu::bias_relu(2, c_out, 25, bf.data(), y.data());
  cuda::bias_relu(ctx(), 2, c_out, 25, d_bf.data(), d_y.data());
  EXPECT_TRUE(same_bits("bias relu", to_host(d_y), y));
}

// A folded group written into its concatenation's slice (engine/gpu/op_fusions.h concat_slots):
// the convolution with a strided output and bias + ReLU with a sample stride give the packed
// result (bias + ReLU exactly; the convolution within float rounding, as cuDNN may choose another
// engine for the strided problem) and leave the other channels untouched.
TEST_F(FoldTest, AConvolutionAndBiasReluWriteIntoAConcatenationSlice) {
  ConvGeom g;
  g.n = 2, g.c_in = 16, g.h_in = 9, g.w_in = 9, g.c_out = 24, g.kh = 3, g.kw = 3, g.ph = 1, g.pw = 1;
  const int64_t hw = g.h_out() * g.w_out(), before = 8, wide_c = before + g.c_out + 8;
  auto d_x = to_device(random_floats(g.x_size(), 60)), d_w = to_device(random_floats(g.w_size(), 61, -0.2f, 0.2f));
  auto d_b = to_device(random_floats(g.c_out, 62));
  cuda::DeviceBuffer<float> d_packed(static_cast<size_t>(g.y_size()));
  cuda::conv2d_forward<float>(ctx(), g, d_x.data(), d_w.data(), d_packed.data());
  cuda::bias_relu(ctx(), g.n, g.c_out, hw, d_b.data(), d_packed.data());
  auto d_wide = to_device(std::vector<float>(static_cast<size_t>(g.n * wide_c * hw), 7.0f));
  float* slice = d_wide.data() + before * hw;
  cuda::conv2d_forward<float>(ctx(), g, d_x.data(), d_w.data(), slice, cuda::ConvLayout{false, wide_c});
  cuda::bias_relu(ctx(), g.n, g.c_out, hw, d_b.data(), slice, wide_c * hw);
  const std::vector<float> packed = to_host(d_packed), wide = to_host(d_wide);
  double worst = 0, scale = 0;
  int64_t touched = 0;
  for (int64_t s = 0; s < g.n; ++s) {
    for (int64_t c = 0; c < wide_c; ++c) {
      for (int64_t p = 0; p < hw; ++p) {
        const float v = wide[static_cast<size_t>((s * wide_c + c) * hw + p)];
        if (c < before || c >= before + g.c_out) {
          touched += v != 7.0f;
          continue;
        }
        const float want = packed[static_cast<size_t>((s * g.c_out + c - before) * hw + p)];
        worst = std::max(worst, std::fabs(double{v} - want));
        scale = std::max(scale, std::fabs(double{want}));
      }
    }
  }
  std::printf("[fold] conv + bias relu into a concatenation slice: max |diff| %.3g of %.3g\n", worst, scale);
  EXPECT_EQ(touched, 0) << "values outside the slice changed";
  EXPECT_LE(worst, 1e-5 * scale);
  EXPECT_GT(scale, 0.0);
}

TEST_F(FoldTest, AFrozenFrontFoldedGivesTheUnfoldedLogits) {
  const Case c(299, 2, 10, "mixed_6h", 7);
  auto d_x = to_device(c.pixels());
  CudaExecutor folded(ctx(), c.g, c.plan, c.init), plain(ctx(), c.g, c.plan, c.init);
  plain.set_fold_frozen(false);
  ASSERT_GT(folded.folded_convs(), 100);
  ASSERT_EQ(plain.folded_convs(), 0);
  folded.forward(d_x.data(), c.batch, Phase::Train, {5, 0, 0});
  const std::vector<float> a = folded.logits_to_host();
  plain.forward(d_x.data(), c.batch, Phase::Train, {5, 0, 0});
  const std::vector<float> b = plain.logits_to_host();
  double worst = 0, scale = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    worst = std::max(worst, std::fabs(double{a[i]} - b[i]));
    scale = std::max(scale, std::fabs(double{b[i]}));
  }
  std::printf("[fold] 299 batch 2, frozen through mixed_6h (%d convs folded): max |logit diff| %.3g of %.3g\n",
              folded.folded_convs(), worst, scale);
  EXPECT_LE(worst, 1e-3 * scale);
  EXPECT_GT(folded.arena_bytes(), 0);
}

// A trainable batch norm fused with its ReLU does exactly the separate ops' float operations: the
// logits and every gradient of a training step are the same bits, fp32 and bf16.
TEST_F(FoldTest, FusedBatchNormReluGivesTheSeparateOpsBits) {
  const Case c(139, 4, 5, "none", 9);
  auto d_x = to_device(c.pixels());
  auto d_labels = to_device(c.labels);
  for (const bool bf16 : {false, true}) {
    CudaExecutor fused(ctx(), c.g, c.plan, c.init, bf16), plain(ctx(), c.g, c.plan, c.init, bf16);
    plain.set_fold_frozen(false);
    auto step = [&](CudaExecutor& e) {
      e.forward(d_x.data(), c.batch, Phase::Train, {6, 0, 0});
      e.loss(d_labels.data());
      e.backward();
      std::vector<float> out = e.logits_to_host();
      for (int t : c.plan.trainable_tensors) {
        const std::vector<float> gr = e.grad_to_host(t);
        out.insert(out.end(), gr.begin(), gr.end());
      }
      return out;
    };
    EXPECT_TRUE(same_bits(bf16 ? "bf16 fused bn+relu step" : "fp32 fused bn+relu step", step(fused), step(plain)));
  }
}

}  // namespace
}  // namespace thaw::cuda_test
