// Sample-size planning against an exhaustive scipy search (normal and exact Clopper-Pearson), and
// the flag checks.
#include <gtest/gtest.h>

#include "core/error.h"
#include "stats/sample_size.h"
#include "tests/stats/stats_reference.h"

namespace thaw {
namespace {

TEST(SampleSize, MatchesScipySearch) {
  const nlohmann::json ref = testkit::load_stats_reference();
  ASSERT_GE(ref["sample_size"].size(), 4u);
  for (const nlohmann::json& c : ref["sample_size"]) {
    const std::string what = c.dump();
    const SampleSizePlan plan = plan_sample_size(parse_sample_size_metric(c["metric"].get<std::string>(), "--metric"),
                                                 c["expected"], c["half_width"], c["prevalence"], 0.95);
    EXPECT_EQ(plan.normal.cases, c["normal_cases"].get<int64_t>()) << what;
    EXPECT_EQ(plan.normal.total, c["normal_total"].get<int64_t>()) << what;
    EXPECT_EQ(plan.exact.cases, c["exact_cases"].get<int64_t>()) << what;
    EXPECT_EQ(plan.exact.total, c["exact_total"].get<int64_t>()) << what;
    testkit::expect_near_ref(c["exact_half_width"], plan.achieved_half_width_exact, what);
    // The answer is the smallest n: one fewer would be too wide.
    EXPECT_GT(exact_half_width(c["expected"], plan.exact.cases - 1, 0.95), c["half_width"].get<double>()) << what;
  }
}

std::string error_of(SampleSizeMetric m, double expected, double w, double prevalence) {
  try {
    plan_sample_size(m, expected, w, prevalence, 0.95);
  } catch (const UserError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(SampleSize, BadFlagsNameTheFlag) {
  EXPECT_EQ(error_of(SampleSizeMetric::Sensitivity, 1.2, 0.05, 0.2),
            "--expected: expected a proportion strictly between 0 and 1, got 1.2");
  EXPECT_EQ(error_of(SampleSizeMetric::Sensitivity, 0.9, 0, 0.2), "--half-width: expected a value in (0, 0.5), got 0");
  EXPECT_EQ(error_of(SampleSizeMetric::Sensitivity, 0.9, 0.05, 0),
            "--prevalence: expected a value in (0, 1] for sensitivity, got 0");
  EXPECT_EQ(error_of(SampleSizeMetric::Specificity, 0.9, 0.05, 1),
            "--prevalence: expected a value in [0, 1) for specificity, got 1");
  EXPECT_THROW(parse_sample_size_metric("accuracy", "--metric"), UserError);
}

}  // namespace
}  // namespace thaw
