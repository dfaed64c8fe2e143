// Wilson and Clopper-Pearson intervals against statsmodels' proportion_confint (reference.json),
// including the edges (0 and n successes, n = 1).
#include <gtest/gtest.h>

#include "core/error.h"
#include "stats/proportion.h"
#include "tests/stats/stats_reference.h"

namespace thaw {
namespace {

using testkit::expect_near_ref;

TEST(Proportion, NormalQuantileMatchesScipy) {
  const nlohmann::json ref = testkit::load_stats_reference();
  expect_near_ref(ref["normal_quantile"], normal_upper_quantile(0.025), "z_0.975");
  EXPECT_NEAR(normal_upper_tail(1.959963984540054), 0.025, 1e-15);
}

TEST(Proportion, IntervalsMatchStatsmodels) {
  const nlohmann::json ref = testkit::load_stats_reference();
  ASSERT_GE(ref["proportions"].size(), 8u);
  for (const nlohmann::json& c : ref["proportions"]) {
    const int64_t k = c["k"], n = c["n"];
    const std::string at = std::to_string(k) + " of " + std::to_string(n);
    const Proportion w = proportion(k, n, CiMethod::Wilson, 0.95);
    expect_near_ref(c["estimate"], w.estimate, at + " estimate");
    expect_near_ref(c["wilson"][0], w.lo, at + " wilson lo");
    expect_near_ref(c["wilson"][1], w.hi, at + " wilson hi");
    const Proportion e = proportion(k, n, CiMethod::Exact, 0.95);
    expect_near_ref(c["exact"][0], e.lo, at + " exact lo");
    expect_near_ref(c["exact"][1], e.hi, at + " exact hi");
  }
}

TEST(Proportion, NoTrialsIsUndefinedAndFlagsAreChecked) {
  const Proportion p = proportion(0, 0, CiMethod::Wilson, 0.95);
  EXPECT_TRUE(std::isnan(p.estimate) && std::isnan(p.lo) && std::isnan(p.hi));
  EXPECT_EQ(parse_ci_method("exact", "--ci"), CiMethod::Exact);
  try {
    parse_ci_method("wald", "--ci");
    FAIL() << "no error for --ci wald";
  } catch (const UserError& e) {
    EXPECT_STREQ(e.what(), "--ci: expected wilson or exact, got 'wald'");
  }
}

}  // namespace
}  // namespace thaw
