#include "kernels/cpu/dropout.h"

#include <gtest/gtest.h>

#include <vector>

#include "core/philox.h"
#include "tests/kernels/kernel_test_util.h"
#include "tests/support/gradcheck.h"

namespace thaw {
namespace {

using testkit::random_values;

std::vector<uint8_t> keep_mask(int64_t count, double p) {
  const CounterRng rng(5, RngPurpose::Dropout, 0, 0);
  std::vector<uint8_t> keep(count);
  for (int64_t i = 0; i < count; ++i) keep[i] = rng.uniform_double_at(i) >= p;
  return keep;
}

TEST(Dropout, ScalesKeptAndZeroesDropped) {
  const int64_t count = 200;
  const double p = 0.3;
  const auto keep = keep_mask(count, p);
  const auto x = testkit::cast_vec<float>(random_values(count, 1));
  std::vector<float> y(count);
  cpu::dropout_forward(count, p, keep.data(), x.data(), y.data());
  int64_t kept = 0;
  for (int64_t i = 0; i < count; ++i) {
    kept += keep[i];
    EXPECT_EQ(y[i], keep[i] ? x[i] * static_cast<float>(1.0 / 0.7) : 0.f) << i;
  }
  EXPECT_GT(kept, 100);
  EXPECT_LT(kept, 180);
  cpu::dropout_forward(count, 1.0, keep.data(), x.data(), y.data());
  for (float v : y) EXPECT_EQ(v, 0.f);
  const std::vector<uint8_t> all(count, 1);
  cpu::dropout_forward(count, 0.0, all.data(), x.data(), y.data());
  EXPECT_TRUE(testkit::same_bits(x, y));
}

TEST(Dropout, GradientMatchesFiniteDifferences) {
  const int64_t count = 50;
  const double p = 0.4;
  const auto keep = keep_mask(count, p);
  std::vector<double> x = random_values(count, 2);
  const auto r = random_values(count, 3), dx0 = random_values(count, 4);
  std::vector<double> y(count);
  auto loss = [&] {
    cpu::dropout_forward(count, p, keep.data(), x.data(), y.data());
    return testkit::dot(r, y);
  };
  auto dx = dx0;
  cpu::dropout_backward(count, p, keep.data(), r.data(), dx.data());
  const auto gx = testkit::difference(dx, dx0);
  const testkit::ScopedThreads one_thread(1);
  const auto report = testkit::check_gradients(loss, {{"x", x, gx}});
  EXPECT_TRUE(report.ok()) << report.describe();
  EXPECT_EQ(report.checked, count);
}

}  // namespace
}  // namespace thaw
