#include "kernels/cuda/maxpool.h"

#include <gtest/gtest.h>

#include "kernels/cpu/pool.h"
#include "tests/cuda/cuda_test_util.h"
#include "tests/cuda/pool_test_shapes.h"

namespace thaw::cuda_test {
namespace {

using MaxPoolTest = CudaTest;

// Forward picks the same winners (same scan, same strict comparison); backward adds the same dy
// values in the same output order. So everything is bit-identical to the CPU twin.
void check(MaxPoolTest& t, const PoolGeom& g, const std::string& name) {
  const auto x = random_floats(g.x_size(), 1), dy = random_floats(g.y_size(), 2), dx0 = random_floats(g.x_size(), 3);
  std::vector<float> want_y(g.y_size());
  std::vector<int32_t> want_am(g.y_size());
  auto want_dx = dx0;
  cpu::maxpool_forward(g, x.data(), want_y.data(), want_am.data());
  cpu::maxpool_backward(g, dy.data(), want_am.data(), want_dx.data());

  auto d_x = t.to_device(x), d_dy = t.to_device(dy), d_dx = t.to_device(dx0);
  cuda::DeviceBuffer<float> d_y(g.y_size());
  cuda::DeviceBuffer<int32_t> d_am(g.y_size());
  d_y.fill_bytes(0xFF, t.stream());
  d_am.fill_bytes(0xFF, t.stream());
  cuda::maxpool_forward(t.ctx(), g, d_x.data(), d_y.data(), d_am.data());
  cuda::maxpool_backward(t.ctx(), g, d_dy.data(), d_am.data(), d_dx.data());
  EXPECT_TRUE(all_close(name + " maxpool forward", t.to_host(d_y), want_y, exact()));
  EXPECT_TRUE(all_equal(name + " maxpool argmax", t.to_host(d_am), want_am));
  EXPECT_TRUE(all_close(name + " maxpool backward", t.to_host(d_dx), want_dx, exact()));
}

// mixed_3a's pool: 64 x 147 x 147, 3x3 stride 2 -> 73 x 73.
TEST_F(MaxPoolTest, StemMixed3a) { check(*this, pool_geom(2, 64, 147, 147, 3, 2, 0), "stem 64x147x147"); }
// Reduction-A and -B pools.
TEST_F(MaxPoolTest, ReductionA) { check(*this, pool_geom(2, 384, 35, 35, 3, 2, 0), "reduction_a 384x35x35"); }
TEST_F(MaxPoolTest, ReductionB) { check(*this, pool_geom(2, 1024, 17, 17, 3, 2, 0), "reduction_b 1024x17x17"); }
// Not in Inception v4, but padding and overlapping stride-1 windows exercise the gather's bounds.
TEST_F(MaxPoolTest, PaddedStride1) { check(*this, pool_geom(2, 8, 13, 11, 3, 1, 1), "padded s1 8x13x11"); }
TEST_F(MaxPoolTest, PaddedStride2OddSize) { check(*this, pool_geom(2, 8, 14, 9, 3, 2, 1), "padded s2 8x14x9"); }

// Ties: equal values everywhere must route every gradient to the first cell of each window.
TEST_F(MaxPoolTest, TiesGoToTheFirstCell) {
  const PoolGeom g = pool_geom(1, 2, 9, 9, 3, 2, 1);
  const std::vector<float> x(g.x_size(), 0.5f);
  const auto dy = random_floats(g.y_size(), 5);
  std::vector<float> want_y(g.y_size()), want_dx(g.x_size(), 0.0f);
  std::vector<int32_t> want_am(g.y_size());
  cpu::maxpool_forward(g, x.data(), want_y.data(), want_am.data());
  cpu::maxpool_backward(g, dy.data(), want_am.data(), want_dx.data());
  auto d_x = to_device(x), d_dy = to_device(dy);
  cuda::DeviceBuffer<float> d_y(g.y_size()), d_dx(g.x_size());
  cuda::DeviceBuffer<int32_t> d_am(g.y_size());
  d_dx.fill_bytes(0, stream());
  cuda::maxpool_forward(ctx(), g, d_x.data(), d_y.data(), d_am.data());
  cuda::maxpool_backward(ctx(), g, d_dy.data(), d_am.data(), d_dx.data());
  EXPECT_TRUE(all_equal("maxpool ties argmax", to_host(d_am), want_am));
  EXPECT_TRUE(all_close("maxpool ties backward", to_host(d_dx), want_dx, exact()));
  // With pad 1, output (0, 0)'s window starts inside at (0, 0).
  EXPECT_EQ(to_host(d_am)[0], 0);
}

}  // namespace
}  // namespace thaw::cuda_test
