#include "kernels/cuda/linear.h"

#include <gtest/gtest.h>

#include "kernels/cpu/linear.h"
#include "tests/cuda/cuda_test_util.h"

namespace thaw::cuda_test {
namespace {

using LinearTest = CudaTest;

LinearGeom linear_geom(int64_t n, int64_t in, int64_t out) {
  LinearGeom g;
  g.n = n, g.in = in, g.out = out;
  return g;
}

// Inputs in [-1, 1): every product term is at most 1 in magnitude.
void check(LinearTest& t, const LinearGeom& g, cuda::OutputMode mode, const std::string& name) {
  const auto x = random_floats(g.n * g.in, 1), w = random_floats(g.out * g.in, 2), b = random_floats(g.out, 3);
  const auto dy = random_floats(g.n * g.out, 4);
  const bool acc = mode == cuda::OutputMode::accumulate;
  // Accumulate starts from random gradients; overwrite from NaN on the GPU and zeros on the CPU.
  const auto dx0 = acc ? random_floats(g.n * g.in, 5) : std::vector<float>(g.n * g.in, 0.0f);
  const auto dw0 = acc ? random_floats(g.out * g.in, 6) : std::vector<float>(g.out * g.in, 0.0f);
  const auto db0 = acc ? random_floats(g.out, 7) : std::vector<float>(g.out, 0.0f);
  std::vector<float> want_y(g.n * g.out);
  auto want_dx = dx0, want_dw = dw0, want_db = db0;
  cpu::linear_forward(g, x.data(), w.data(), b.data(), want_y.data());
  cpu::linear_backward(g, x.data(), w.data(), dy.data(), want_dx.data(), want_dw.data(), want_db.data());

  auto d_x = t.to_device(x), d_w = t.to_device(w), d_b = t.to_device(b), d_dy = t.to_device(dy);
  auto d_dx = t.to_device(dx0), d_dw = t.to_device(dw0), d_db = t.to_device(db0);
  if (!acc) {
    d_dx.fill_bytes(0xFF, t.stream());
    d_dw.fill_bytes(0xFF, t.stream());
    d_db.fill_bytes(0xFF, t.stream());
  }
  cuda::DeviceBuffer<float> d_y(g.n * g.out);
  d_y.fill_bytes(0xFF, t.stream());
  cuda::linear_forward(t.ctx(), g, d_x.data(), d_w.data(), d_b.data(), d_y.data());
  cuda::linear_backward(t.ctx(), g, d_x.data(), d_w.data(), d_dy.data(), d_dx.data(), d_dw.data(), d_db.data(), mode);
  const std::string report = cuda::linear_plan_report(t.ctx(), g);
  std::printf("[plan] linear %s: %s\n", name.c_str(), report.c_str());
  ::testing::Test::RecordProperty("plan_" + name, report);

  EXPECT_TRUE(all_close(name + " linear y", t.to_host(d_y), want_y, float_dot(g.in + 1, 1.0)));
  EXPECT_TRUE(all_close(name + " linear dx", t.to_host(d_dx), want_dx, float_dot(g.out + 1, 1.0)));
  EXPECT_TRUE(all_close(name + " linear dw", t.to_host(d_dw), want_dw, float_dot(g.n + 1, 1.0)));
  // Column sums in double, rows in order, on both sides.
  EXPECT_TRUE(all_close(name + " linear db", t.to_host(d_db), want_db, elementwise(max_abs(want_db))));
}

// The classifier: 1536 features to 1000 classes, batch 32; and a small fine-tuning head.
TEST_F(LinearTest, ImageNetHeadAccumulate) {
  check(*this, linear_geom(32, 1536, 1000), cuda::OutputMode::accumulate, "1536->1000 acc");
}
TEST_F(LinearTest, ImageNetHeadOverwrite) {
  check(*this, linear_geom(32, 1536, 1000), cuda::OutputMode::overwrite, "1536->1000 over");
}
TEST_F(LinearTest, SmallHeadOddBatch) {
  check(*this, linear_geom(7, 1536, 10), cuda::OutputMode::accumulate, "1536->10 n7");
}

TEST_F(LinearTest, NoBiasAndSkippedGradients) {
  const LinearGeom g = linear_geom(4, 64, 3);
  const auto x = random_floats(g.n * g.in, 1), w = random_floats(g.out * g.in, 2);
  const std::vector<float> zero_b(g.out, 0.0f);
  std::vector<float> want_y(g.n * g.out);
  cpu::linear_forward(g, x.data(), w.data(), zero_b.data(), want_y.data());
  auto d_x = to_device(x), d_w = to_device(w);
  cuda::DeviceBuffer<float> d_y(g.n * g.out);
  d_y.fill_bytes(0xFF, stream());
  cuda::linear_forward(ctx(), g, d_x.data(), d_w.data(), nullptr, d_y.data());
  EXPECT_TRUE(all_close("linear y without bias", to_host(d_y), want_y, float_dot(g.in, 1.0)));
  // Only db wanted: the products are skipped.
  const auto dy = random_floats(g.n * g.out, 3);
  auto d_dy = to_device(dy);
  cuda::DeviceBuffer<float> d_db(g.out);
  cuda::linear_backward(ctx(), g, d_x.data(), d_w.data(), d_dy.data(), nullptr, nullptr, d_db.data(),
                        cuda::OutputMode::overwrite);
  std::vector<float> want_db(g.out);
  for (int64_t o = 0; o < g.out; ++o) {
    double s = 0;
    for (int64_t r = 0; r < g.n; ++r) s += dy[r * g.out + o];
    want_db[o] = static_cast<float>(s);
  }
  EXPECT_TRUE(all_close("linear db only", to_host(d_db), want_db, exact()));
}

}  // namespace
}  // namespace thaw::cuda_test
