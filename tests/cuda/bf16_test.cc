// `--precision bf16` on the GPU (engine/model/mixed_precision.h) against its CPU twin
// (Executor<float>::set_bf16): ops that do the same fp32 operations as the CPU and round once give
// the same bf16 bits; ops whose fp32 results may differ in the last bits (batch norm, average
// pools, convolutions) land within one bf16 ulp (tests/cuda/tolerance.h, bf16_store); the whole
// network's forward near the CPU twin (a first bound, the measured error printed); three training
// steps twice give the same bits.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "core/bf16.h"
#include "engine/data/synthetic.h"
#include "engine/gpu/cuda_executor.h"
#include "engine/model/executor.h"
#include "graph/inception_v4.h"
#include "kernels/cpu/batchnorm.h"
#include "kernels/cpu/conv2d.h"
#include "kernels/cpu/loss.h"
#include "kernels/cpu/pool.h"
#include "kernels/cpu/relu.h"
#include "kernels/cuda/batchnorm.h"
#include "kernels/cuda/conv2d.h"
#include "kernels/cuda/convert.h"
#include "kernels/cuda/maxpool.h"
#include "kernels/cuda/avgpool.h"
#include "kernels/cuda/relu.h"
#include "tests/cuda/cuda_test_util.h"
#include "tests/cuda/sgd_steps.h"

namespace thaw::cuda_test {
namespace {

using Bf16Test = CudaTest;

std::vector<float> rounded(std::vector<float> v) {
  round_to_bf16(v.data(), static_cast<int64_t>(v.size()));
  return v;
}

// A device bf16 buffer holding `v` (already bf16 values), and back.
cuda::DeviceBuffer<cuda::bf16> to_bf16_device(CudaTest& t, const std::vector<float>& v) {
  auto f = t.to_device(v);
  cuda::DeviceBuffer<cuda::bf16> d(v.size());
  cuda::to_bf16(t.ctx(), static_cast<int64_t>(v.size()), f.data(), d.data());
  t.ctx().synchronize("to bf16");
  return d;
}
std::vector<float> from_bf16_device(CudaTest& t, const cuda::DeviceBuffer<cuda::bf16>& d) {
  cuda::DeviceBuffer<float> f(d.size());
  cuda::to_float(t.ctx(), static_cast<int64_t>(d.size()), d.data(), f.data());
  return t.to_host(f);
}

TEST_F(Bf16Test, ConversionRoundsToNearestEvenAsTheCpu) {
  std::vector<float> v = random_floats(1 << 16, 31, -3.0f, 3.0f);
  v.push_back(1.0f + 0x1p-8f);  // a tie
  auto d = to_bf16_device(*this, v);
  EXPECT_TRUE(same_bits("to_bf16", from_bf16_device(*this, d), rounded(v)));
}

TEST_F(Bf16Test, ReluAndMaxPoolGiveTheCpuBits) {
  const PoolGeom pg{2, 5, 17, 17, 3, 2, 0, false};
  const std::vector<float> x = rounded(random_floats(pg.x_size(), 32));
  std::vector<float> y(static_cast<size_t>(pg.y_size())), ry(x.size());
  std::vector<int32_t> argmax(y.size());
  cpu::maxpool_forward(pg, x.data(), y.data(), argmax.data());
  cpu::relu_forward(static_cast<int64_t>(x.size()), x.data(), ry.data());
  auto d_x = to_bf16_device(*this, x);
  cuda::DeviceBuffer<cuda::bf16> d_y(y.size()), d_ry(x.size());
  cuda::DeviceBuffer<int32_t> d_arg(y.size());
  cuda::maxpool_forward(ctx(), pg, d_x.data(), d_y.data(), d_arg.data());
  cuda::relu_forward(ctx(), static_cast<int64_t>(x.size()), d_x.data(), d_ry.data());
  EXPECT_TRUE(same_bits("bf16 max pool", from_bf16_device(*this, d_y), y));
  EXPECT_TRUE(all_equal("bf16 max pool argmax", to_host(d_arg), argmax));
  EXPECT_TRUE(same_bits("bf16 relu", from_bf16_device(*this, d_ry), ry));
  // Backward: dy routed into dx (zero), summed in output order, rounded once.
  const std::vector<float> dy = rounded(random_floats(pg.y_size(), 33));
  std::vector<float> dx(x.size(), 0.0f);
  cpu::maxpool_backward(pg, dy.data(), argmax.data(), dx.data());
  auto d_dy = to_bf16_device(*this, dy);
  auto d_dx = to_bf16_device(*this, std::vector<float>(x.size(), 0.0f));
  cuda::maxpool_backward(ctx(), pg, d_dy.data(), d_arg.data(), d_dx.data());
  EXPECT_TRUE(same_bits("bf16 max pool backward", from_bf16_device(*this, d_dx), rounded(dx)));
}

TEST_F(Bf16Test, AveragePoolAndBatchNormAreWithinOneBf16Step) {
  const PoolGeom pg{2, 6, 17, 17, 3, 1, 1, false};
  const std::vector<float> x = rounded(random_floats(pg.x_size(), 34));
  std::vector<float> y(static_cast<size_t>(pg.y_size()));
  cpu::avgpool_forward(pg, x.data(), y.data());
  auto d_x = to_bf16_device(*this, x);
  cuda::DeviceBuffer<cuda::bf16> d_y(y.size());
  cuda::avgpool_forward(ctx(), pg, d_x.data(), d_y.data());
  EXPECT_TRUE(all_close("bf16 avg pool", from_bf16_device(*this, d_y), rounded(y),
                        bf16_store(elementwise(max_abs(y)).atol)));

  const BnGeom bg{4, 6, 17 * 17, 1e-3, 0.1};
  const std::vector<float> gamma = random_floats(6, 35, 0.5f, 1.5f), beta = random_floats(6, 36);
  std::vector<float> rm(6, 0.0f), rv(6, 1.0f), mean(6), invstd(6);
  const std::vector<float> bx = rounded(random_floats(bg.size(), 37, -2.0f, 3.0f));
  std::vector<float> by(bx.size());
  cpu::batchnorm_forward_train(bg, bx.data(), gamma.data(), beta.data(), rm.data(), rv.data(), by.data(), mean.data(),
                               invstd.data());
  auto d_bx = to_bf16_device(*this, bx);
  auto d_gamma = to_device(gamma), d_beta = to_device(beta), d_rm = to_device(std::vector<float>(6, 0.0f)),
       d_rv = to_device(std::vector<float>(6, 1.0f));
  cuda::DeviceBuffer<float> d_mean(6), d_invstd(6);
  cuda::DeviceBuffer<cuda::bf16> d_by(bx.size());
  cuda::batchnorm_forward_train(ctx(), bg, d_bx.data(), d_gamma.data(), d_beta.data(), d_rm.data(), d_rv.data(),
                                d_by.data(), d_mean.data(), d_invstd.data());
  EXPECT_TRUE(all_close("bf16 bn y", from_bf16_device(*this, d_by), rounded(by),
                        bf16_store(elementwise(max_abs(by)).atol)));
  EXPECT_TRUE(all_close("bf16 bn running_var (fp32)", to_host(d_rv), rv, elementwise(max_abs(rv))));
}

TEST_F(Bf16Test, ConvolutionIsTheRoundedFp32ConvolutionOfBf16Operands) {
  const ConvGeom cg{2, 32, 17, 17, 48, 3, 3, 1, 1, 1, 1};
  const std::vector<float> x = rounded(random_floats(cg.x_size(), 38)), w = rounded(random_floats(cg.w_size(), 39));
  std::vector<float> y(static_cast<size_t>(cg.n * cg.c_out * cg.h_out() * cg.w_out()));
  cpu::conv2d_forward(cg, x.data(), w.data(), y.data());
  auto d_x = to_bf16_device(*this, x), d_w = to_bf16_device(*this, w);
  cuda::DeviceBuffer<cuda::bf16> d_y(y.size());
  cuda::conv2d_forward(ctx(), cg, d_x.data(), d_w.data(), d_y.data());
  std::printf("[bf16] conv plan: %s\n", cuda::conv_plan(ctx(), cuda::ConvDirection::forward, cg, cuda::ConvMath::bf16).describe().c_str());
  const int64_t k = cg.c_in * cg.kh * cg.kw;
  EXPECT_TRUE(all_close("bf16 conv forward", from_bf16_device(*this, d_y), rounded(y),
                        bf16_store(float_dot(k, 1.0).atol)));
}

TEST_F(Bf16Test, WholeNetworkForwardIsNearTheCpuTwin) {
  constexpr int64_t kSize = 299, kBatch = 2, kClasses = 10;
  const Graph g = build_inception_v4(kSize, kClasses);
  const Plan plan = make_plan(g, -1, BnPolicy::Train);
  const ModelState<float> init = ModelState<float>::random(g, 7);
  Tensor<float> x;
  std::vector<int32_t> labels;
  synthetic_batch(5, 0, kBatch, kSize, kClasses, x, labels);
  ModelState<float> s32 = init, s16 = init;
  Executor<float> fp32(g, plan, s32), twin(g, plan, s16);
  twin.set_bf16(true);
  const Tensor<float> l32 = fp32.forward(x, Phase::Train, {5, 0, 0});
  const Tensor<float> l16 = twin.forward(x, Phase::Train, {5, 0, 0});

  CudaExecutor exec(ctx(), g, plan, init, true);
  auto d_x = to_device(std::vector<float>(x.data(), x.data() + x.numel()));
  exec.forward(d_x.data(), kBatch, Phase::Train, {5, 0, 0});
  const std::vector<float> gpu = exec.logits_to_host();
  double scale = 0, to_twin = 0, to_fp32 = 0, twin_fp32 = 0;
  for (int64_t i = 0; i < l16.numel(); ++i) {
    scale = std::max(scale, std::fabs(double{l32[i]}));
    to_twin = std::max(to_twin, std::fabs(double{gpu[static_cast<size_t>(i)]} - l16[i]));
    to_fp32 = std::max(to_fp32, std::fabs(double{gpu[static_cast<size_t>(i)]} - l32[i]));
    twin_fp32 = std::max(twin_fp32, std::fabs(double{l16[i]} - l32[i]));
  }
  std::printf("[bf16] 299 batch 2 forward, max |logit diff| of scale %.3g: gpu-twin %.3g, gpu-fp32 %.3g, "
              "twin-fp32 %.3g\n", scale, to_twin, to_fp32, twin_fp32);
  ASSERT_GT(scale, 0.0);
  for (float v : gpu) EXPECT_TRUE(is_bf16(v));
  // A first bound, to be tightened from the printed line: the GPU's bf16 as near the twin as the
  // twin is to fp32, with room for the other summation orders (a wiring error moves logits by
  // their own size).
  EXPECT_LE(to_twin, std::max(2 * twin_fp32, 0.02 * scale));
}

TEST_F(Bf16Test, ThreeTrainingStepsTwiceGiveTheSameBits) { expect_three_steps_twice_same_bits(ctx(), "bf16", true); }

}  // namespace
}  // namespace thaw::cuda_test
