#include "kernels/cpu/relu.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "tests/kernels/kernel_test_util.h"
#include "tests/support/gradcheck.h"

namespace thaw {
namespace {

using testkit::random_values;

TEST(Relu, GradientMatchesFiniteDifferences) {
  const int64_t count = 60;
  std::vector<double> x = random_values(count, 1);
  for (double& v : x) v = std::copysign(0.05 + 0.95 * std::abs(v), v);  // no input within 0.05 of the kink
  const auto r = random_values(count, 2);
  std::vector<double> y(count);
  auto loss = [&] {
    cpu::relu_forward(count, x.data(), y.data());
    return testkit::dot(r, y);
  };
  loss();
  const auto dx0 = random_values(count, 3);
  auto dx = dx0;
  cpu::relu_backward(count, y.data(), r.data(), dx.data());
  const auto gx = testkit::difference(dx, dx0);
  testkit::GradCheckOptions opt;
  opt.branches = [&] {
    std::vector<int64_t> s(count);
    for (int64_t i = 0; i < count; ++i) s[i] = x[i] > 0;
    return s;
  };
  const testkit::ScopedThreads one_thread(1);
  const auto report = testkit::check_gradients(loss, {{"x", x, gx}}, opt);
  EXPECT_TRUE(report.ok()) << report.describe();
  EXPECT_EQ(report.checked, count);
  int64_t positive = 0;
  for (double v : x) positive += v > 0;
  EXPECT_GT(positive, 10);
  EXPECT_LT(positive, count - 10);
}

TEST(Relu, InPlaceAndBoundary) {
  std::vector<float> v = {-2.f, -0.f, 0.f, 1e-30f, 3.f};
  cpu::relu_forward(5, v.data(), v.data());
  EXPECT_EQ(v, (std::vector<float>{0.f, 0.f, 0.f, 1e-30f, 3.f}));
  // Zero output passes no gradient: the subgradient at 0 is taken as 0, as PyTorch does.
  std::vector<float> dx(5, 1.f);
  const std::vector<float> dy = {5.f, 5.f, 5.f, 5.f, 5.f};
  cpu::relu_backward(5, v.data(), dy.data(), dx.data());
  EXPECT_EQ(dx, (std::vector<float>{1.f, 1.f, 1.f, 6.f, 6.f}));
}

}  // namespace
}  // namespace thaw
