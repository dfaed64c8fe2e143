#include "kernels/cuda/avgpool.h"

#include <gtest/gtest.h>

#include "kernels/cpu/pool.h"
#include "tests/cuda/cuda_test_util.h"
#include "tests/cuda/pool_test_shapes.h"

namespace thaw::cuda_test {
namespace {

using AvgPoolTest = CudaTest;

// Both sides sum in double in the same separable order and round once, so the results are expected
// to be bit-identical (the summary line counts them); the elementwise rule leaves room for a
// reordering on either side without hiding a wrong window or count, which errs by far more.
void check(AvgPoolTest& t, const PoolGeom& g, const std::string& name) {
  const auto x = random_floats(g.x_size(), 1), dy = random_floats(g.y_size(), 2), dx0 = random_floats(g.x_size(), 3);
  std::vector<float> want_y(g.y_size());
  auto want_dx = dx0;
  cpu::avgpool_forward(g, x.data(), want_y.data());
  cpu::avgpool_backward(g, dy.data(), want_dx.data());
  auto d_x = t.to_device(x), d_dy = t.to_device(dy), d_dx = t.to_device(dx0);
  cuda::DeviceBuffer<float> d_y(g.y_size());
  d_y.fill_bytes(0xFF, t.stream());
  cuda::avgpool_forward(t.ctx(), g, d_x.data(), d_y.data());
  cuda::avgpool_backward(t.ctx(), g, d_dy.data(), d_dx.data());
  EXPECT_TRUE(all_close(name + " avgpool forward", t.to_host(d_y), want_y, elementwise(max_abs(x))));
  EXPECT_TRUE(all_close(name + " avgpool backward", t.to_host(d_dx), want_dx, elementwise(max_abs(want_dx))));
}

// The Inception blocks' 3x3 stride-1 pad-1 pools (count_include_pad=False).
TEST_F(AvgPoolTest, InceptionA) { check(*this, pool_geom(2, 384, 35, 35, 3, 1, 1), "inception_a 384x35x35"); }
TEST_F(AvgPoolTest, InceptionB) { check(*this, pool_geom(2, 1024, 17, 17, 3, 1, 1), "inception_b 1024x17x17"); }
TEST_F(AvgPoolTest, InceptionC) { check(*this, pool_geom(2, 1536, 8, 8, 3, 1, 1), "inception_c 1536x8x8"); }
TEST_F(AvgPoolTest, Stride2Padded) { check(*this, pool_geom(2, 4, 10, 7, 3, 2, 1), "s2 p1 4x10x7"); }

// timm's inception_v3 pools (count_include_pad=True), and a strided padded one.
TEST_F(AvgPoolTest, CountPadV3Mixed5) { check(*this, pool_geom(2, 288, 35, 35, 3, 1, 1, true), "v3 count-pad 288x35x35"); }
TEST_F(AvgPoolTest, CountPadStride2) { check(*this, pool_geom(2, 4, 10, 7, 3, 2, 1, true), "count-pad s2 p1 4x10x7"); }

// With count_pad a corner window of a constant input averages 4 cells over 9.
TEST_F(AvgPoolTest, PaddingCountedWhenAsked) {
  const PoolGeom g = pool_geom(1, 1, 5, 5, 3, 1, 1, true);
  auto d_x = to_device(std::vector<float>(25, 9.0f));
  cuda::DeviceBuffer<float> d_y(25);
  cuda::avgpool_forward(ctx(), g, d_x.data(), d_y.data());
  const std::vector<float> y = to_host(d_y);
  EXPECT_EQ(y[0], 4.0f);
  EXPECT_EQ(y[2], 6.0f);
  EXPECT_EQ(y[12], 9.0f);
}

// The border windows hold 4 or 6 cells, not 9: a constant input must come out unchanged.
TEST_F(AvgPoolTest, PaddingIsNotCounted) {
  const PoolGeom g = pool_geom(1, 1, 5, 5, 3, 1, 1);
  auto d_x = to_device(std::vector<float>(25, 2.0f));
  cuda::DeviceBuffer<float> d_y(25);
  cuda::avgpool_forward(ctx(), g, d_x.data(), d_y.data());
  EXPECT_TRUE(all_close("avgpool constant", to_host(d_y), std::vector<float>(25, 2.0f), exact()));
}

}  // namespace
}  // namespace thaw::cuda_test
