// --val-fraction 0: training on every training image with no held-out evaluation, said on stderr
// and in the record; not the same as leaving the flag out (IDX data then evaluate on their test
// files); replay repeats it; --select, which needs held-out data, and a sweep refuse it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_harness.h"
#include "tests/cli/idx_fixture.h"

namespace thaw::testing {
namespace {

using ::testing::HasSubstr;

TEST(NoHeldOut, ValFractionZeroTrainsWithoutEvaluation) {
  if (!thaw_binary_exists()) GTEST_SKIP() << "thaw binary not built: " << THAW_BINARY;
  ScratchDir dir;
  write_idx_folder(dir.path() / "idx");
  const std::string base = std::string(THAW_BINARY) + " train --data " + sh_quote(dir / "idx") +
                           " --input-size 75 --freeze-through mixed_7c --train-limit 4 --batch-size 2 --epochs 2"
                           " --seed 3 --threads 2 --workers 1";
  const std::string cmd = base + " --val-fraction 0 --out " + sh_quote(dir / "run");
  const CommandResult r = run_command(cmd, dir);
  ASSERT_EQ(r.exit_code, 0) << describe(cmd, r);
  EXPECT_THAT(r.err, HasSubstr("--val-fraction 0: no held-out evaluation"));
  EXPECT_THAT(r.out, HasSubstr("(no held-out evaluation); weights in"));
  const nlohmann::json rec = read_json(dir.path() / "run/record.json");
  EXPECT_EQ(rec["config"]["held_out"], false);
  EXPECT_EQ(rec["config"]["val_fraction"], 0.0);
  for (const nlohmann::json& line : read_json_lines(dir.path() / "run/metrics.jsonl")) {
    if (line.contains("epoch_end")) EXPECT_EQ(line["val_accuracy"], -1.0);
  }
  const std::string replay = std::string(THAW_BINARY) + " replay " + sh_quote(dir / "run");
  const CommandResult rp = run_command(replay, dir);
  EXPECT_EQ(rp.exit_code, 0) << describe(replay, rp);
  EXPECT_THAT(rp.out, HasSubstr("identical"));

  // Without the flag, IDX data evaluate on their test files: another run.
  const std::string plain = base + " --out " + sh_quote(dir / "plain");
  const CommandResult p = run_command(plain, dir);
  ASSERT_EQ(p.exit_code, 0) << describe(plain, p);
  EXPECT_THAT(p.out, HasSubstr("held-out accuracy"));
  EXPECT_EQ(read_json(dir.path() / "plain/record.json")["config"]["held_out"], true);

  const std::string select = base + " --val-fraction 0 --select accuracy --out " + sh_quote(dir / "bad");
  const CommandResult s = run_command(select, dir);
  EXPECT_EQ(s.exit_code, 2) << describe(select, s);
  EXPECT_THAT(s.err, HasSubstr("--select: judges each epoch on held-out data, and --val-fraction 0 leaves none"));
  const std::string sweep = std::string(THAW_BINARY) + " sweep --data " + sh_quote(dir / "idx") +
                            " --val-fraction 0 --freeze-through mixed_7c --out " + sh_quote(dir / "bad");
  const CommandResult w = run_command(sweep, dir);
  EXPECT_EQ(w.exit_code, 2) << describe(sweep, w);
  EXPECT_THAT(w.err, HasSubstr("--val-fraction 0: a sweep picks its best arm on held-out data"));
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "bad" / "record.json"));
}

}  // namespace
}  // namespace thaw::testing
