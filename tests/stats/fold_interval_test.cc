// The corrected resampled t (stats/fold_interval.h) against values worked by hand: t(4) quantile
// 2.7764451051977987, and for 4 degrees of freedom the two-sided p has the closed form
// 1 - 1.5u + 0.5u^3 with u = t / sqrt(t^2 + 4).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "stats/fold_interval.h"
#include "tests/support/user_error.h"

namespace thaw {
namespace {

TEST(FoldInterval, CorrectedIntervalMatchesTheHandWorkedOne) {
  // mean 0.8, s^2 = 0.001 / 4; corrected se = sqrt((1/5 + 1/4) * 0.00025) = 0.0106066017...
  const FoldSummary s = corrected_fold_interval({0.80, 0.82, 0.78, 0.81, 0.79}, 1.0 / 4, 0.95);
  EXPECT_EQ(s.folds, 5);
  EXPECT_NEAR(s.mean, 0.8, 1e-15);
  EXPECT_NEAR(s.sd, std::sqrt(0.00025), 1e-15);
  EXPECT_NEAR(s.lo, 0.8 - 2.7764451051977987 * 0.0106066017177982, 1e-12);
  EXPECT_NEAR(s.hi, 0.8 + 2.7764451051977987 * 0.0106066017177982, 1e-12);
  // Wider than the uncorrected t interval (variance s^2/K), which ignores the folds' overlap.
  EXPECT_GT(s.hi - s.lo, 2 * 2.7764451051977987 * std::sqrt(0.00025 / 5));
}

TEST(FoldInterval, CorrectedPairedTestMatchesTheClosedForm) {
  const std::optional<double> p = corrected_paired_t_p({0.02, 0.01, 0.03, 0.00, 0.02}, 1.0 / 4);
  ASSERT_TRUE(p.has_value());
  const double t = 0.016 / std::sqrt((1.0 / 5 + 1.0 / 4) * 0.00013);
  const double u = t / std::sqrt(t * t + 4);
  EXPECT_NEAR(*p, 1 - 1.5 * u + 0.5 * u * u * u, 1e-12);
  EXPECT_NEAR(*p, 0.10460522928410207, 1e-9);
  // The sign of the differences does not change a two-sided p.
  EXPECT_NEAR(*corrected_paired_t_p({-0.02, -0.01, -0.03, 0.00, -0.02}, 1.0 / 4), *p, 1e-15);
}

TEST(FoldInterval, NoSpreadNoTestAndOneFoldIsRefused) {
  EXPECT_FALSE(corrected_paired_t_p({0.01, 0.01, 0.01}, 0.5).has_value());
  EXPECT_THAT(testkit::user_error_of([] { corrected_fold_interval({0.5}, 1, 0.95); }),
              ::testing::HasSubstr("at least 2 folds"));
}

}  // namespace
}  // namespace thaw
