#include "kernels/cuda/relu.h"

#include <gtest/gtest.h>

#include "kernels/cpu/relu.h"
#include "tests/cuda/cuda_test_util.h"

namespace thaw::cuda_test {
namespace {

using ReluTest = CudaTest;

// Stem output after conv2d_2b: 64 x 147 x 147, batch 2.
constexpr int64_t kCount = 2 * 64 * 147 * 147;

TEST_F(ReluTest, ForwardMatchesCpuExactly) {
  const auto x = random_floats(kCount, 1);
  std::vector<float> want(kCount);
  cpu::relu_forward(kCount, x.data(), want.data());
  auto dx = to_device(x);
  cuda::DeviceBuffer<float> dy(kCount);
  dy.fill_bytes(0xFF, stream());  // NaN: every element must be written
  cuda::relu_forward(ctx(), kCount, dx.data(), dy.data());
  EXPECT_TRUE(all_close("relu forward", to_host(dy), want, exact()));
  // In place, as the header allows.
  cuda::relu_forward(ctx(), kCount, dx.data(), dx.data());
  EXPECT_TRUE(all_close("relu forward in place", to_host(dx), want, exact()));
}

TEST_F(ReluTest, BackwardAccumulatesExactly) {
  auto y = random_floats(kCount, 2);
  cpu::relu_forward(kCount, y.data(), y.data());  // a real forward output: zeros and positives
  const auto g = random_floats(kCount, 3);
  const auto dx0 = random_floats(kCount, 4);
  auto want = dx0;
  cpu::relu_backward(kCount, y.data(), g.data(), want.data());
  auto d_y = to_device(y), d_g = to_device(g), d_dx = to_device(dx0);
  cuda::relu_backward(ctx(), kCount, d_y.data(), d_g.data(), d_dx.data());
  EXPECT_TRUE(all_close("relu backward", to_host(d_dx), want, exact()));
}

}  // namespace
}  // namespace thaw::cuda_test
