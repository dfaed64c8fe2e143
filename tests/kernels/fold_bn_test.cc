// A frozen batch norm folded into its convolution (kernels/cpu/fold_bn.h, the CPU twin of the GPU's
// frozen part): relu(conv(x, w') + b') against relu(bn_infer(conv(x, w))) on Inception shapes with
// running statistics far from the identity, within a float dot product's rounding; bias_relu alone
// is exact.
#include "kernels/cpu/fold_bn.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "kernels/cpu/batchnorm.h"
#include "kernels/cpu/conv2d.h"
#include "kernels/cpu/relu.h"
#include "tests/kernels/kernel_test_util.h"

namespace thaw::cpu {
namespace {

void check_fold(const ConvGeom& cg, uint32_t seed) {
  const int64_t per = cg.c_in * cg.kh * cg.kw, out_hw = cg.h_out() * cg.w_out();
  const auto x = testkit::cast_vec<float>(testkit::random_values(cg.x_size(), seed));
  const auto w = testkit::cast_vec<float>(testkit::random_values(cg.c_out * per, seed + 1, -0.2, 0.2));
  const auto gamma = testkit::cast_vec<float>(testkit::random_values(cg.c_out, seed + 2, 0.5, 2.0));
  const auto beta = testkit::cast_vec<float>(testkit::random_values(cg.c_out, seed + 3, -1.0, 1.0));
  const auto mean = testkit::cast_vec<float>(testkit::random_values(cg.c_out, seed + 4, -0.5, 0.5));
  const auto var = testkit::cast_vec<float>(testkit::random_values(cg.c_out, seed + 5, 0.05, 4.0));
  const int64_t ny = cg.n * cg.c_out * out_hw;
  std::vector<float> y(static_cast<size_t>(ny)), bn(y.size()), want(y.size());
  conv2d_forward(cg, x.data(), w.data(), y.data());
  BnGeom bg;
  bg.n = cg.n, bg.c = cg.c_out, bg.hw = out_hw, bg.eps = 1e-3;
  batchnorm_forward_infer(bg, y.data(), gamma.data(), beta.data(), mean.data(), var.data(), bn.data());
  relu_forward(ny, bn.data(), want.data());

  std::vector<float> wf(w.size()), bf(static_cast<size_t>(cg.c_out)), got(y.size());
  fold_batchnorm(cg.c_out, per, bg.eps, w.data(), gamma.data(), beta.data(), mean.data(), var.data(), wf.data(),
                 bf.data());
  conv2d_forward(cg, x.data(), wf.data(), got.data());
  bias_relu(cg.n, cg.c_out, out_hw, bf.data(), got.data());
  double worst = 0, scale = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    worst = std::max(worst, std::fabs(double{got[i]} - want[i]));
    scale = std::max(scale, std::fabs(double{want[i]}));
  }
  // The products w * a, the sums in another association and the bias's subtraction each round in
  // float: a dot product of `per` terms of |x w a| <= 2 |a|, so eps * per * 2 max|a| bounds it.
  double max_a = 0;
  for (int64_t k = 0; k < cg.c_out; ++k) max_a = std::max(max_a, gamma[k] / std::sqrt(double{var[k]} + bg.eps));
  const double bound = 1.1920928955078125e-07 * static_cast<double>(per) * 0.2 * max_a * 4 + 4e-7 * scale;
  std::printf("[fold] %lldx%lld %lldx%lld: max |folded - unfolded| %.3g (bound %.3g, scale %.3g)\n",
              static_cast<long long>(cg.c_in), static_cast<long long>(cg.c_out), static_cast<long long>(cg.kh),
              static_cast<long long>(cg.kw), worst, bound, scale);
  EXPECT_LE(worst, bound);
  EXPECT_GT(scale, 0.1);
}

TEST(FoldBatchNorm, FoldedEqualsConvBatchNormReluWithinRounding) {
  check_fold({2, 16, 17, 17, 24, 3, 3, 1, 1, 1, 1}, 10);  // 3x3, padded
  check_fold({2, 32, 9, 9, 48, 1, 7, 1, 1, 0, 3}, 20);    // Inception-B's 1x7
  check_fold({2, 64, 8, 8, 32, 1, 1, 1, 1, 0, 0}, 30);    // 1x1
}

TEST(FoldBatchNorm, BiasReluIsOneAddAndASelection) {
  std::vector<float> y = {-1.0f, 0.5f, 2.0f, -0.25f, 3.0f, -4.0f};
  const std::vector<float> b = {0.75f, -1.0f};
  bias_relu(1, 2, 3, b.data(), y.data());
  EXPECT_EQ(y, (std::vector<float>{0.0f, 1.25f, 2.75f, 0.0f, 2.0f, 0.0f}));
}

}  // namespace
}  // namespace thaw::cpu
