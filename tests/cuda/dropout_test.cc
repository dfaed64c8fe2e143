#include "kernels/cuda/dropout.h"

#include <gtest/gtest.h>

#include "kernels/cpu/dropout.h"
#include "tests/cuda/cuda_test_util.h"

namespace thaw::cuda_test {
namespace {

using DropoutTest = CudaTest;

// The classifier input: batch 32 x 1536 features.
constexpr int64_t kCount = 32 * 1536;

void check(DropoutTest& t, double p) {
  const auto x = random_floats(kCount, 1), g = random_floats(kCount, 2), dx0 = random_floats(kCount, 3);
  const auto keep = random_mask(kCount, 4, 1.0 - p);
  std::vector<float> want_y(kCount);
  auto want_dx = dx0;
  cpu::dropout_forward(kCount, p, keep.data(), x.data(), want_y.data());
  cpu::dropout_backward(kCount, p, keep.data(), g.data(), want_dx.data());
  auto d_x = t.to_device(x), d_g = t.to_device(g), d_dx = t.to_device(dx0);
  auto d_keep = t.to_device(keep);
  cuda::DeviceBuffer<float> d_y(kCount);
  d_y.fill_bytes(0xFF, t.stream());
  cuda::dropout_forward(t.ctx(), kCount, p, d_keep.data(), d_x.data(), d_y.data());
  cuda::dropout_backward(t.ctx(), kCount, p, d_keep.data(), d_g.data(), d_dx.data());
  const std::string tag = "dropout p=" + std::to_string(p);
  // x * float(1/(1-p)) is one rounding on both sides.
  EXPECT_TRUE(all_close(tag + " forward", t.to_host(d_y), want_y, exact()));
  // dx + dy * s: the CPU compiler may fuse it into one FMA; the kernel rounds twice.
  EXPECT_TRUE(all_close(tag + " backward", t.to_host(d_dx), want_dx, elementwise(max_abs(want_dx))));
}

TEST_F(DropoutTest, MatchesCpuAtTimmRate) { check(*this, 0.2); }
TEST_F(DropoutTest, MatchesCpuAtHalf) { check(*this, 0.5); }
TEST_F(DropoutTest, DropAllGivesZeros) { check(*this, 1.0); }

TEST_F(DropoutTest, BadProbabilityIsRefused) {
  cuda::DeviceBuffer<float> x(4), y(4);
  cuda::DeviceBuffer<uint8_t> keep(4);
  EXPECT_THROW(cuda::dropout_forward(ctx(), 4, 1.5, keep.data(), x.data(), y.data()), InternalError);
}

}  // namespace
}  // namespace thaw::cuda_test
