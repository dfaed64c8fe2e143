// The bootstrap: the same seed gives the same intervals, replicates keep groups whole, and the
// intervals cover a known value about as often as they claim (simulated data with a known truth,
// where ignoring the groups must cover visibly less often).
#include <cmath>

#include <gtest/gtest.h>

#include "core/philox.h"
#include "stats/bootstrap.h"
#include "stats/confusion.h"
#include "stats/evaluation.h"
#include "tests/stats/stats_reference.h"

namespace thaw {
namespace {

TEST(Bootstrap, QuantileInterpolatesLikeNumpy) {
  const std::vector<double> v{1, 2, 4, 8};
  EXPECT_DOUBLE_EQ(quantile_sorted(v, 0.0), 1);
  EXPECT_DOUBLE_EQ(quantile_sorted(v, 0.5), 3);      // h = 1.5
  EXPECT_DOUBLE_EQ(quantile_sorted(v, 0.025), 1.075);  // h = 0.075
  EXPECT_DOUBLE_EQ(quantile_sorted(v, 1.0), 8);
}

TEST(Bootstrap, SameSeedSameIntervalsOtherSeedOthers) {
  const Predictions p = read_predictions(testkit::stats_data("three_class_a.csv"));
  EvalOptions o;
  o.bootstrap_replicates = 300;
  o.seed = 7;
  const nlohmann::json a = evaluate_predictions(p, o);
  const nlohmann::json b = evaluate_predictions(p, o);
  EXPECT_EQ(a.dump(), b.dump());
  o.seed = 8;
  const nlohmann::json c = evaluate_predictions(p, o);
  EXPECT_NE(a["macro"]["auc"]["lo"], c["macro"]["auc"]["lo"]);
  EXPECT_EQ(a["macro"]["auc"]["estimate"], c["macro"]["auc"]["estimate"]);
  // Sensible intervals around the point value.
  for (const char* m : {"sensitivity", "specificity", "ppv", "npv", "f1", "auc"}) {
    const nlohmann::json& v = a["macro"][m];
    EXPECT_LT(v["lo"].get<double>(), v["estimate"].get<double>()) << m;
    EXPECT_GT(v["hi"].get<double>(), v["estimate"].get<double>()) << m;
    EXPECT_EQ(v["replicates_used"], 300) << m;
  }
}

TEST(Bootstrap, ReplicateIsAPureFunctionOfSeedAndIndex) {
  const ResamplingUnits u = single_samples(50);
  const std::vector<int32_t> w = bootstrap_weights(u, 3, 11);
  EXPECT_EQ(w, bootstrap_weights(u, 3, 11));
  EXPECT_NE(w, bootstrap_weights(u, 3, 12));
  int64_t total = 0;
  for (const int32_t x : w) total += x;
  EXPECT_EQ(total, 50);
}

TEST(Bootstrap, GroupsStayWhole) {
  const Predictions p = read_predictions(testkit::stats_data("grouped.csv"));
  const ResamplingUnits u = units_from_groups(p.groups);
  ASSERT_EQ(u.members.size(), 20u);
  ASSERT_TRUE(u.grouped);
  int64_t varied = 0;
  for (uint32_t r = 0; r < 200; ++r) {
    const std::vector<int32_t> w = bootstrap_weights(u, 5, r);
    int64_t drawn = 0;
    for (const std::vector<int64_t>& g : u.members) {
      for (const int64_t s : g) ASSERT_EQ(w[s], w[g[0]]) << "replicate " << r << " split group " << p.groups[g[0]];
      drawn += w[g[0]];
    }
    EXPECT_EQ(drawn, 20) << "replicate " << r;
    int64_t total = 0;
    for (const int32_t x : w) total += x;
    varied += total != p.size();
  }
  EXPECT_GT(varied, 100);  // group sizes differ, so most replicates have another sample count
  EvalOptions o;
  o.bootstrap_replicates = 20;
  const nlohmann::json e = evaluate_predictions(p, o);
  EXPECT_EQ(e["bootstrap"]["unit"], "group");
  EXPECT_EQ(e["bootstrap"]["units"], 20);
}

// Accuracy of a classifier whose groups (patients) differ: half the groups are easy (90% right),
// half hard (50%), so the population accuracy is 0.7 and samples within a group are correlated.
struct Simulated {
  std::vector<int> truth, predicted;
  std::vector<std::string> groups;
};

Simulated simulate(uint32_t dataset, int groups, int per_group) {
  const CounterRng rng(2024, RngPurpose::Synthetic, dataset, 0);
  Simulated s;
  uint64_t pos = 0;
  for (int g = 0; g < groups; ++g) {
    const double q = rng.uniform_double_at(pos++) < 0.5 ? 0.9 : 0.5;
    for (int i = 0; i < per_group; ++i) {
      s.truth.push_back(0);
      s.predicted.push_back(rng.uniform_double_at(pos++) < q ? 0 : 1);
      s.groups.push_back(std::to_string(g));
    }
  }
  return s;
}

double coverage(bool use_groups, int datasets) {
  int covered = 0;
  for (int d = 0; d < datasets; ++d) {
    const Simulated s = simulate(static_cast<uint32_t>(d), 40, 5);
    const ResamplingUnits u = use_groups ? units_from_groups(s.groups) : single_samples(200);
    const BootstrapInterval b =
        bootstrap_percentile(u, 1, 200, static_cast<uint64_t>(d), 0.95, [&](std::span<const int32_t> w, std::span<double> out) {
          const ConfusionMatrix m = confusion_matrix(s.truth, s.predicted, 2, w);
          out[0] = ratio(m.correct(), m.total());
        })[0];
    covered += b.lo <= 0.7 && 0.7 <= b.hi;
  }
  return static_cast<double>(covered) / datasets;
}

TEST(Bootstrap, GroupedIntervalsCoverTheTruthAndSampleLevelOnesFallShort) {
  constexpr int kDatasets = 300;
  const double grouped = coverage(true, kDatasets);
  const double naive = coverage(false, kDatasets);
  // 300 datasets: a coverage's standard error is about 0.013. The percentile bootstrap with 40
  // units runs slightly below nominal; ignoring a design effect of ~1.8 brings it near 0.86.
  EXPECT_GE(grouped, 0.89);
  EXPECT_LE(grouped, 0.98);
  EXPECT_LT(naive, grouped - 0.04);
  RecordProperty("coverage_grouped", std::to_string(grouped));
  RecordProperty("coverage_sample_level", std::to_string(naive));
  std::printf("coverage of the true accuracy: grouped %.3f, sample-level %.3f\n", grouped, naive);
}

TEST(Bootstrap, BalancedAccuracyIntervalCoversTheTruth) {
  // Independent samples, class 0 recalled 80% and class 1 60% of the time: balanced accuracy 0.7.
  int covered = 0;
  constexpr int kDatasets = 300;
  for (int d = 0; d < kDatasets; ++d) {
    const CounterRng rng(99, RngPurpose::Synthetic, static_cast<uint32_t>(d), 1);
    std::vector<int> truth(200), predicted(200);
    for (int i = 0; i < 200; ++i) {
      truth[i] = rng.uniform_double_at(2 * i) < 0.3 ? 1 : 0;
      const bool right = rng.uniform_double_at(2 * i + 1) < (truth[i] == 0 ? 0.8 : 0.6);
      predicted[i] = right ? truth[i] : 1 - truth[i];
    }
    const BootstrapInterval b = bootstrap_percentile(
        single_samples(200), 1, 200, static_cast<uint64_t>(d), 0.95, [&](std::span<const int32_t> w, std::span<double> out) {
          out[0] = macro_rates(confusion_matrix(truth, predicted, 2, w)).sensitivity;
        })[0];
    covered += b.lo <= 0.7 && 0.7 <= b.hi;
  }
  const double c = static_cast<double>(covered) / kDatasets;
  EXPECT_GE(c, 0.90);
  EXPECT_LE(c, 0.985);
}

}  // namespace
}  // namespace thaw
