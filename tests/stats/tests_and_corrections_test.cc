// McNemar's exact test and Holm's correction against statsmodels (mcnemar(exact=True),
// multipletests(method='holm')); Holm's hand-checkable properties.
#include <gtest/gtest.h>

#include "stats/holm.h"
#include "stats/mcnemar.h"
#include "tests/stats/stats_reference.h"

namespace thaw {
namespace {

using testkit::expect_near_ref;

TEST(McNemar, ExactPMatchesStatsmodels) {
  const nlohmann::json ref = testkit::load_stats_reference();
  ASSERT_GE(ref["mcnemar"].size(), 6u);
  for (const nlohmann::json& c : ref["mcnemar"]) {
    const int64_t b = c["only_a_correct"], cc = c["only_b_correct"];
    expect_near_ref(c["p"], mcnemar_exact_p(b, cc), "b=" + std::to_string(b) + " c=" + std::to_string(cc));
  }
}

TEST(McNemar, CountsThePairs) {
  const std::vector<uint8_t> a{1, 1, 0, 0, 1, 1, 1, 0};
  const std::vector<uint8_t> b{1, 0, 1, 0, 0, 0, 1, 0};
  const McNemarTest t = mcnemar_exact(a, b);
  EXPECT_EQ(t.both_correct, 2);
  EXPECT_EQ(t.only_a_correct, 3);
  EXPECT_EQ(t.only_b_correct, 1);
  EXPECT_EQ(t.both_wrong, 2);
  // 2 * P(Binomial(4, 1/2) <= 1) = 2 * 5/16.
  EXPECT_DOUBLE_EQ(t.p, 0.625);
}

TEST(Holm, MatchesStatsmodelsHolmNotHolmSidak) {
  const nlohmann::json ref = testkit::load_stats_reference();
  ASSERT_GE(ref["holm"].size(), 3u);
  for (const nlohmann::json& c : ref["holm"]) {
    const std::vector<double> p = c["p"].get<std::vector<double>>();
    const std::vector<double> adj = holm_adjust(p);
    ASSERT_EQ(adj.size(), p.size());
    for (size_t i = 0; i < p.size(); ++i) expect_near_ref(c["adjusted"][i], adj[i], "p " + std::to_string(p[i]));
  }
  // Holm-Sidak would give 1 - (1 - 0.01)^4 = 0.0394 for the smallest of four; Holm gives 0.04.
  const std::vector<double> adj = holm_adjust(std::vector<double>{0.01, 0.04, 0.03, 0.2});
  EXPECT_DOUBLE_EQ(adj[0], 0.04);
  EXPECT_DOUBLE_EQ(adj[2], 0.09);  // 3 * 0.03
  EXPECT_DOUBLE_EQ(adj[1], 0.09);  // 2 * 0.04 = 0.08, raised to keep the order
  EXPECT_DOUBLE_EQ(adj[3], 0.2);
}

}  // namespace
}  // namespace thaw
