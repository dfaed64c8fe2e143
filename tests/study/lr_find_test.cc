// The range test's reading: the smoothing by hand, the suggestion on a planted curve against a
// brute-force search written here, a curve that never falls, a NaN that ends the points, and the
// files' fields.
#include "study/lr_find.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "engine/train/loss_smoother.h"
#include "tests/support/temp_dir.h"
#include "tests/support/user_error.h"

namespace thaw {
namespace {

using ::testing::HasSubstr;

TEST(LossSmoother, BiasCorrectedMovingAverageByHand) {
  LossSmoother s;
  const double w = 1 - 0.98;  // the new loss's weight (0.02 in binary64's rounding)
  EXPECT_EQ(s.add(1.0), w / (1 - 0.98));
  EXPECT_EQ(s.add(2.0), (0.98 * w + w * 2) / (1 - 0.98 * 0.98));
  EXPECT_DOUBLE_EQ(s.best(), 1.0);
  EXPECT_FALSE(s.diverged(4));
  for (int i = 0; i < 200; ++i) s.add(100.0);
  EXPECT_TRUE(s.diverged(4));  // near 100, above 4 x 1
  LossSmoother n;
  n.add(1.0);
  n.add(NAN);
  EXPECT_TRUE(n.diverged(4));  // a non-finite loss is divergence
}

// lr = 1e-6 x 10^(i/10); the loss stays at 3 for 30 steps, falls along a cosine to 1 over 30
// steps (steepest halfway, at step 45), stays at 1 for 20, then grows by half each step.
std::vector<double> planted_losses(std::vector<double>& lrs) {
  std::vector<double> losses;
  for (int i = 0; i < 100; ++i) {
    lrs.push_back(1e-6 * std::pow(10.0, i / 10.0));
    double l = 3;
    if (i >= 30 && i < 60) l = 2 + std::cos(M_PI * (i - 30) / 30.0);
    if (i >= 60) l = 1;
    if (i >= 80) l = std::pow(1.5, i - 80);
    losses.push_back(l);
  }
  return losses;
}

TEST(LrFind, SuggestsTheSteepestDescentOfTheSmoothedLoss) {
  std::vector<double> lrs;
  const std::vector<double> losses = planted_losses(lrs);
  const LrFindResult r = analyse_lr_range(lrs, losses);
  ASSERT_EQ(r.points.size(), 100u);
  // Independently: smooth, find the lowest, then the most negative central difference up to it.
  std::vector<double> sm;
  double avg = 0, corr = 1;
  for (double l : losses) {
    avg = 0.98 * avg + (1 - 0.98) * l;
    corr *= 0.98;
    sm.push_back(avg / (1 - corr));
  }
  size_t lowest = 10;  // the first tenth of 100 points passed over
  for (size_t i = 11; i < sm.size(); ++i) lowest = sm[i] < sm[lowest] ? i : lowest;
  size_t steepest = 10;
  double best = 0;
  for (size_t i = 10; i <= lowest; ++i) {
    const size_t a = i ? i - 1 : i, b = std::min(i + 1, sm.size() - 1);
    const double slope = (sm[b] - sm[a]) / (std::log10(lrs[b]) - std::log10(lrs[a]));
    if (slope < best) best = slope, steepest = i;
  }
  for (size_t i = 0; i < sm.size(); ++i) EXPECT_DOUBLE_EQ(r.points[i].smoothed, sm[i]) << i;
  EXPECT_EQ(r.lowest, static_cast<int64_t>(lowest));
  EXPECT_EQ(r.steepest, static_cast<int64_t>(steepest));
  EXPECT_TRUE(r.descended);
  EXPECT_EQ(r.suggested_lr, lrs[steepest]);
  EXPECT_EQ(r.lowest_lr_over_10, lrs[lowest] / 10);
  // The smoothing lags the planted fall (steepest at step 45) but keeps it inside the fall, and the
  // lowest point lies before the growth takes the average back up.
  EXPECT_GE(r.steepest, 45);
  EXPECT_LT(r.steepest, 60);
  EXPECT_GE(r.lowest, 60);
  EXPECT_LT(r.lowest, 90);
}

TEST(LrFind, TheFirstTenthOfThePointsIsPassedOver) {
  EXPECT_EQ(lr_find_skipped(9), 0);
  EXPECT_EQ(lr_find_skipped(41), 4);
  EXPECT_EQ(lr_find_skipped(1000), 10);
  // A first loss far below the rest (noise at the start) is not taken for the lowest point.
  std::vector<double> lrs, losses;
  for (int i = 0; i < 30; ++i) {
    lrs.push_back(1e-5 * std::pow(10.0, i / 5.0));
    losses.push_back(i == 0 ? 1.0 : 2.0 - 0.05 * i);  // smoothed: 1.0 first, lowest again (1.175) only at 29
  }
  const LrFindResult r = analyse_lr_range(lrs, losses);
  EXPECT_EQ(r.lowest, 29);
  EXPECT_TRUE(r.descended);
  EXPECT_GE(r.steepest, 3);
  EXPECT_LT(r.points[0].smoothed, r.points[29].smoothed);  // what the skip is for
}

TEST(LrFind, ALossThatNeverFallsSuggestsTheLowestRateOverTen) {
  const std::vector<double> lrs = {1e-5, 1e-4, 1e-3, 1e-2};
  const LrFindResult r = analyse_lr_range(lrs, {1.0, 1.5, 2.0, 4.0});
  EXPECT_FALSE(r.descended);
  EXPECT_EQ(r.lowest, 0);
  EXPECT_EQ(r.suggested_lr, 1e-5 / 10);
}

TEST(LrFind, ANonFiniteLossEndsThePoints) {
  const LrFindResult r = analyse_lr_range({1e-4, 1e-3, 1e-2, 1e-1}, {2.0, 1.0, NAN, 0.5});
  EXPECT_EQ(r.points.size(), 2u);
  EXPECT_THAT(testkit::user_error_of([] { analyse_lr_range({1e-3}, {INFINITY}); }), HasSubstr("no step with a finite loss"));
}

TEST(LrFind, ReadsTheStepLinesOfARunFolderAndWritesItsFiles) {
  testkit::TempDir tmp("thaw-lrfind");
  // Step 1 twice (the later line counts), a torn last line; step 4 after a gap is not read.
  std::ofstream(tmp.path() / "metrics.jsonl")
      << "{\"step\":0,\"lr\":0.001,\"loss\":2.0}\n{\"step\":1,\"lr\":0.01,\"loss\":9.0}\n"
         "{\"step\":1,\"lr\":0.01,\"loss\":1.5}\n{\"epoch_end\":0}\n{\"step\":2,\"lr\":0.1,\"loss\":1.0}\n"
         "{\"step\":4,\"lr\":10,\"loss\":0.1}\n{\"step\":";
  const LrFindResult r = read_lr_range(tmp.path());
  ASSERT_EQ(r.points.size(), 3u);
  EXPECT_EQ(r.points[1].loss, 1.5);
  const auto j = lr_find_json(r);
  EXPECT_EQ(j["points"].size(), 3u);
  EXPECT_EQ(j["lowest"]["step"], 2);
  EXPECT_EQ(j["suggested_lr"].get<double>(), r.suggested_lr);
  EXPECT_EQ(lr_find_csv(r).substr(0, 41), "step,lr,loss,smoothed_loss\n0,0.001,2.0,2.");
  EXPECT_THAT(testkit::user_error_of([&] { read_lr_range(tmp.path() / "none"); }), HasSubstr("cannot read"));
}

}  // namespace
}  // namespace thaw
