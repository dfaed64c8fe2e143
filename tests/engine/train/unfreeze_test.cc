// --unfreeze's schedule: parsed against the graph's blocks, the freeze point of each epoch, and
// one clear message for each way a schedule can be wrong.
#include "engine/train/unfreeze.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "graph/inception_v4.h"
#include "tests/support/user_error.h"

namespace thaw {
namespace {

using ::testing::HasSubstr;

TEST(Unfreeze, ScheduleByEpoch) {
  const Graph g = build_inception_v4(75, 3, 0.0);
  const auto s = parse_unfreeze("mixed_7d@0,mixed_6h@2,none@4", g, 6);
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].block, g.find_block("mixed_7d"));
  EXPECT_EQ(s[1].epoch, 2);
  EXPECT_EQ(s[2].block, -1);
  const int d = g.find_block("mixed_7d"), h = g.find_block("mixed_6h");
  const int expected[] = {d, d, h, h, -1, -1};
  for (int e = 0; e < 6; ++e) EXPECT_EQ(freeze_block_at(s, 99, e), expected[e]) << "epoch " << e;
  EXPECT_EQ(earliest_freeze_block(s, 99), -1);
  // No schedule: the fixed freeze point throughout.
  EXPECT_TRUE(parse_unfreeze("", g, 6).empty());
  EXPECT_EQ(freeze_block_at({}, h, 3), h);
  EXPECT_EQ(earliest_freeze_block({}, h), h);
}

TEST(Unfreeze, BadSchedulesAreOneLineNamingTheFlag) {
  const Graph g = build_inception_v4(75, 3, 0.0);
  const auto msg = [&](const std::string& spec) {
    return testkit::user_error_of([&] { parse_unfreeze(spec, g, 4); });
  };
  EXPECT_THAT(msg("mixed_7d"), HasSubstr("--unfreeze: expected BLOCK@EPOCH, got 'mixed_7d'"));
  EXPECT_THAT(msg("mixed_7d@1"), HasSubstr("--unfreeze: the schedule starts at epoch 0"));
  EXPECT_THAT(msg("mixed_7d@0,mixed_6h@0"), HasSubstr("--unfreeze: epochs must increase"));
  EXPECT_THAT(msg("mixed_6h@0,mixed_7d@1"), HasSubstr("must come before the last (unfreezing moves back)"));
  EXPECT_THAT(msg("mixed_7d@0,mixed_7d@1"), HasSubstr("must come before the last"));
  EXPECT_THAT(msg("mixed_7d@0,mixed_6h@4"), HasSubstr("'mixed_6h@4' is past the run's last epoch (epochs are 0 to 3"));
  EXPECT_THAT(msg("mixed_9z@0"), HasSubstr("--unfreeze: unknown block 'mixed_9z'"));
  EXPECT_THAT(msg("mixed_7d@x"), HasSubstr("--unfreeze: expected an epoch (0, 1, ...) after '@', got 'x'"));
  EXPECT_THAT(msg("mixed_7d@-1"), HasSubstr("after '@', got '-1'"));
  EXPECT_THAT(msg("mixed_7d@0,,none@1"), HasSubstr("expected BLOCK@EPOCH, got ''"));
}

}  // namespace
}  // namespace thaw
