#include "kernels/cuda/global_avgpool.h"

#include <gtest/gtest.h>

#include "kernels/cpu/pool.h"
#include "tests/cuda/cuda_test_util.h"

namespace thaw::cuda_test {
namespace {

using GlobalAvgPoolTest = CudaTest;

void check(GlobalAvgPoolTest& t, int64_t n, int64_t c, int64_t hw, const std::string& name) {
  const auto x = random_floats(n * c * hw, 1), dy = random_floats(n * c, 2), dx0 = random_floats(n * c * hw, 3);
  std::vector<float> want_y(n * c);
  auto want_dx = dx0;
  cpu::global_avgpool_forward(n, c, hw, x.data(), want_y.data());
  cpu::global_avgpool_backward(n, c, hw, dy.data(), want_dx.data());
  auto d_x = t.to_device(x), d_dy = t.to_device(dy), d_dx = t.to_device(dx0);
  cuda::DeviceBuffer<float> d_y(n * c);
  d_y.fill_bytes(0xFF, t.stream());
  cuda::global_avgpool_forward(t.ctx(), n, c, hw, d_x.data(), d_y.data());
  cuda::global_avgpool_backward(t.ctx(), n, c, hw, d_dy.data(), d_dx.data());
  // Both sum in double, in different orders, and round once.
  EXPECT_TRUE(all_close(name + " global avgpool forward", t.to_host(d_y), want_y, elementwise(max_abs(x))));
  // The same float share float(dy / hw), added once: exact.
  EXPECT_TRUE(all_close(name + " global avgpool backward", t.to_host(d_dx), want_dx, exact()));
}

// The head's pool: 1536 x 8 x 8 at batch 32; and an odd plane size.
TEST_F(GlobalAvgPoolTest, InceptionHead) { check(*this, 32, 1536, 64, "head 1536x8x8"); }
TEST_F(GlobalAvgPoolTest, OddPlane) { check(*this, 3, 5, 17 * 17, "odd 5x17x17"); }

}  // namespace
}  // namespace thaw::cuda_test
