// Replay's comparison of GPU library choices (engine/run/plan_differences.h): same lines give
// nothing; a changed engine, a problem only one side built, and a line without a choice are each
// named once, in problem order.
#include "engine/run/plan_differences.h"

#include <gtest/gtest.h>

namespace thaw {
namespace {

TEST(PlanDifferences, NamesEveryChangedMissingAndNewProblem) {
  const std::vector<std::string> recorded = {"conv fwd bf16 nchw n8 c3: engine 70 knobs {1: 2}",
                                             "conv wgrad bf16 nchw n8 c3: engine 1",
                                             "linear fp32 n8 1536->10: algo 3: tile 2"};
  EXPECT_TRUE(plan_differences(recorded, recorded).empty());
  const std::vector<std::string> now = {"conv fwd bf16 nchw n8 c3: engine 71 knobs {1: 2}",
                                        "linear fp32 n8 1536->10: algo 3: tile 2", "conv dgrad bf16 nchw n8 c32: engine 2",
                                        "bare problem"};
  const std::vector<std::string> d = plan_differences(recorded, now);
  ASSERT_EQ(d.size(), 4u);
  EXPECT_EQ(d[0], "bare problem: recorded none, now ");
  EXPECT_EQ(d[1], "conv dgrad bf16 nchw n8 c32: recorded none, now engine 2");
  EXPECT_EQ(d[2], "conv fwd bf16 nchw n8 c3: recorded engine 70 knobs {1: 2}, now engine 71 knobs {1: 2}");
  EXPECT_EQ(d[3], "conv wgrad bf16 nchw n8 c3: recorded engine 1, now none");
}

}  // namespace
}  // namespace thaw
