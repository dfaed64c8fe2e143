#include "kernels/cuda/dropout.h"

#include <gtest/gtest.h>

#include "core/philox.h"
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

// The mask made on the device is the CPU executor's (engine/model/executor.cc) bit for bit, at a
// sample offset and step past 2^16 and a seed using both halves.
TEST_F(DropoutTest, DeviceMaskIsTheHostMask) {
  const uint64_t seed = 0x123456789abcdefULL;
  const int64_t step = 70001, offset = 65530, batch = 5, per = 1536;
  const double p = 0.2;
  std::vector<int32_t> want(static_cast<size_t>(batch * per));
  for (int64_t s = 0; s < batch; ++s) {
    const CounterRng rng(seed, RngPurpose::Dropout, static_cast<uint32_t>(step), static_cast<uint32_t>(offset + s));
    for (int64_t e = 0; e < per; ++e) want[static_cast<size_t>(s * per + e)] = rng.uniform_double_at(e) >= p;
  }
  cuda::DeviceBuffer<uint8_t> d_keep(want.size());
  cuda::dropout_mask(ctx(), seed, step, offset, batch, per, p, d_keep.data());
  const std::vector<uint8_t> got = to_host(d_keep);
  EXPECT_TRUE(all_equal("device dropout mask", std::vector<int32_t>(got.begin(), got.end()), want));
}

TEST_F(DropoutTest, BadProbabilityIsRefused) {
  cuda::DeviceBuffer<float> x(4), y(4);
  cuda::DeviceBuffer<uint8_t> keep(4);
  EXPECT_THROW(cuda::dropout_forward(ctx(), 4, 1.5, keep.data(), x.data(), y.data()), InternalError);
}

}  // namespace
}  // namespace thaw::cuda_test
