// The checker itself: it must fail on a wrong gradient, name the place, and set kinks apart.
#include "tests/support/gradcheck.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace thaw {
namespace {

double cubic_loss(const std::vector<double>& v) {
  double s = 0;
  for (size_t i = 0; i < v.size(); ++i) s += static_cast<double>(i + 1) * v[i] * v[i] * v[i];
  return s;
}

TEST(GradCheck, AcceptsTheTrueGradient) {
  std::vector<double> v = {0.3, -1.2, 2.0, 0.7};
  std::vector<double> g(v.size());
  for (size_t i = 0; i < v.size(); ++i) g[i] = 3.0 * (i + 1) * v[i] * v[i];
  const auto r = testkit::check_gradients([&] { return cubic_loss(v); }, {{"v", v, g}});
  EXPECT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(r.checked, 4);
  EXPECT_EQ(v, (std::vector<double>{0.3, -1.2, 2.0, 0.7}));  // values restored
}

TEST(GradCheck, NamesTheTensorAndIndexOfAWrongGradient) {
  std::vector<double> v = {0.3, -1.2, 2.0, 0.7};
  std::vector<double> g(v.size());
  for (size_t i = 0; i < v.size(); ++i) g[i] = 3.0 * (i + 1) * v[i] * v[i];
  g[2] *= 1.001;  // a 0.1% error, far above the threshold
  const auto r = testkit::check_gradients([&] { return cubic_loss(v); }, {{"weights", v, g}});
  EXPECT_FALSE(r.ok());
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_EQ(r.failures[0].tensor, "weights");
  EXPECT_EQ(r.failures[0].index, 2);
  EXPECT_NE(r.describe().find("weights[2]"), std::string::npos) << r.describe();
}

TEST(GradCheck, RelativeErrorFloorsTheScaleAtOne) {
  EXPECT_DOUBLE_EQ(testkit::grad_rel_error(1e-3, 2e-3), 1e-3);
  EXPECT_DOUBLE_EQ(testkit::grad_rel_error(100.0, 101.0), 1.0 / 101.0);
  EXPECT_TRUE(std::isnan(testkit::grad_rel_error(NAN, 1.0)));
}

TEST(GradCheck, ReportsKinksApartInsteadOfFailing) {
  // L = sum relu(v); v[1] sits 1e-5 from the kink, inside the window, so the difference straddles it.
  std::vector<double> v = {0.5, 1e-5, -0.4};
  const std::vector<double> g = {1.0, 1.0, 0.0};
  auto loss = [&] {
    double s = 0;
    for (double e : v) s += e > 0 ? e : 0;
    return s;
  };
  testkit::GradCheckOptions opt;
  opt.branches = [&] {
    std::vector<int64_t> s;
    for (double e : v) s.push_back(e > 0);
    return s;
  };
  const auto r = testkit::check_gradients(loss, {{"v", v, g}}, opt);
  EXPECT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(r.checked, 2);
  ASSERT_EQ(r.near_kinks.size(), 1u);
  EXPECT_EQ(r.near_kinks[0].index, 1);
  // Without the signature the same point fails: the kink is real.
  const auto blind = testkit::check_gradients(loss, {{"v", v, g}});
  EXPECT_FALSE(blind.ok());
}

TEST(GradCheck, SamplesAFixedSubset) {
  const auto a = testkit::grad_sample(1000, 20, 7, "w");
  EXPECT_EQ(a.size(), 20u);
  EXPECT_EQ(a, testkit::grad_sample(1000, 20, 7, "w"));
  EXPECT_NE(a, testkit::grad_sample(1000, 20, 8, "w"));
  EXPECT_TRUE(std::is_sorted(a.begin(), a.end()));
  EXPECT_EQ(std::adjacent_find(a.begin(), a.end()), a.end());
  EXPECT_EQ(testkit::grad_sample(5, 20, 7, "w").size(), 5u);
}

TEST(GradCheck, ShapeMismatchIsAFailure) {
  std::vector<double> v = {1.0, 2.0};
  const std::vector<double> g = {1.0};
  const auto r = testkit::check_gradients([&] { return v[0]; }, {{"v", v, g}});
  EXPECT_FALSE(r.ok());
}

}  // namespace
}  // namespace thaw
