// A gradual-unfreezing schedule as one arm of a sweep, beside a fixed freeze point: the arm runs
// `thaw train --unfreeze`, is evaluated and compared like any other, and replays from its folder.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_harness.h"
#include "tests/cli/idx_fixture.h"

namespace thaw::testing {
namespace {

using ::testing::HasSubstr;

TEST(SweepUnfreeze, AScheduleIsAnArm) {
  if (!thaw_binary_exists()) GTEST_SKIP() << "thaw binary not built: " << THAW_BINARY;
  ScratchDir dir;
  write_idx_folder(dir.path() / "idx", 24, 8, 2);
  const std::filesystem::path out = dir.path() / "sweep";
  const std::string sweep = std::string(THAW_BINARY) + " sweep --data " + sh_quote(dir / "idx") +
                            " --input-size 75 --val-fraction 0.25 --freeze-through mixed_7c,mixed_7c@0+mixed_7b@1"
                            " --out " + sh_quote(out.string()) + " --bootstrap 20 --train-limit 8 --batch-size 4"
                            " --shards 1 --epochs 2 --threads 2 --workers 1";
  const CommandResult r = run_command(sweep, dir);
  ASSERT_EQ(r.exit_code, 0) << describe(sweep, r);
  const nlohmann::json doc = read_json(out / "sweep.json");
  ASSERT_EQ(doc["arms"].size(), 2u);
  const nlohmann::json& arm = doc["arms"][1];
  EXPECT_EQ(arm["freeze_through"], "mixed_7c@0+mixed_7b@1");
  EXPECT_EQ(arm["status"], "complete");
  const std::filesystem::path run = out / "arms" / "mixed_7c@0+mixed_7b@1";
  EXPECT_EQ(read_json(run / "record.json")["config"]["unfreeze"], "mixed_7c@0,mixed_7b@1");
  EXPECT_THAT(read_text(run / "train.log"), HasSubstr("epoch 2: unfreezing, frozen through mixed_7b now"));
  // More trains in the schedule's arm by its end than in the fixed arm.
  EXPECT_GT(arm["trainable_parameters"].get<int64_t>(), doc["arms"][0]["trainable_parameters"].get<int64_t>());
  EXPECT_THAT(r.out, HasSubstr("mixed_7c@0+mixed_7b@1"));

  const std::string replay = std::string(THAW_BINARY) + " replay " + sh_quote(run.string());
  const CommandResult rp = run_command(replay, dir);
  EXPECT_EQ(rp.exit_code, 0) << describe(replay, rp);

  const std::string bad = std::string(THAW_BINARY) + " sweep --data " + sh_quote(dir / "idx") +
                          " --freeze-through mixed_7c --unfreeze mixed_7c@0 --out " + sh_quote((dir.path() / "bad").string());
  const CommandResult b = run_command(bad, dir);
  EXPECT_EQ(b.exit_code, 2) << describe(bad, b);
  EXPECT_THAT(b.err, HasSubstr("--unfreeze: give the schedule as an arm of --freeze-through"));
}

}  // namespace
}  // namespace thaw::testing
