// `thaw lr-find` through the command: the rate rises from --start-lr exactly as the range
// schedule says, the run stops once the loss diverges (a rate of 1000 with SGD cannot be
// survived), lr_find.json and .csv hold the curve and the suggestion printed, the record
// replays bit for bit, a resume is refused, and flags the test sets itself are refused.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_harness.h"
#include "tests/cli/idx_fixture.h"

namespace thaw::testing {
namespace {

using ::testing::HasSubstr;

TEST(LrFindCli, TheRangeTestStopsAtDivergenceAndReplays) {
  if (!thaw_binary_exists()) GTEST_SKIP() << "thaw binary not built: " << THAW_BINARY;
  ScratchDir dir;
  write_idx_folder(dir.path() / "idx");
  const std::string common = sh_quote(THAW_BINARY) + " lr-find --data " + sh_quote(dir / "idx") +
                             " --input-size 75 --freeze-through mixed_7c --train-limit 8 --val-limit 2 --batch-size 2"
                             " --seed 5 --threads 2 --workers 1";
  const std::string base = common + " --start-lr 1e-4 --end-lr 1000 --steps 40";
  const std::string cmd = base + " --out " + sh_quote(dir / "run");
  const CommandResult r = run_command(cmd, dir);
  ASSERT_EQ(r.exit_code, 0) << describe(cmd, r);
  const nlohmann::json rec = read_json(dir.path() / "run/record.json");
  EXPECT_EQ(rec["config"]["lr_schedule"], "range");
  EXPECT_EQ(rec["config"]["stop_on_divergence"], 4.0);
  EXPECT_EQ(rec["result"]["stopped_early"], true);
  const int64_t steps = rec["result"]["steps"].get<int64_t>();
  EXPECT_LT(steps, 40) << "a rate of 1000 must end the test early";
  EXPECT_THAT(r.err, HasSubstr("stopped after step " + std::to_string(steps)));

  // Every step's rate: 1e-4 x (1e7)^(s / 39).
  std::ifstream in(dir.path() / "run/metrics.jsonl");
  int64_t seen = 0;
  for (std::string line; std::getline(in, line);) {
    const nlohmann::json j = nlohmann::json::parse(line);
    if (!j.contains("step")) continue;
    const double want = 1e-4 * std::pow(1e7, static_cast<double>(j["step"].get<int64_t>()) / 39.0);
    EXPECT_NEAR(j["lr"].get<double>() / want, 1, 1e-12);
    ++seen;
  }
  EXPECT_EQ(seen, steps);

  const nlohmann::json lf = read_json(dir.path() / "run/lr_find.json");
  EXPECT_GE(lf["points"].size(), 2u);
  EXPECT_LE(lf["points"].size(), static_cast<size_t>(steps));
  const double suggested = lf["suggested_lr"].get<double>();
  EXPECT_GE(suggested, 1e-5);
  EXPECT_LE(suggested, 1000);
  EXPECT_THAT(r.out, HasSubstr("range test: "));
  EXPECT_THAT(read_text(dir.path() / "run/lr_find.csv"), HasSubstr("step,lr,loss,smoothed_loss\n0,"));

  const std::string replay = sh_quote(THAW_BINARY) + " replay " + sh_quote(dir / "run");
  const CommandResult rp = run_command(replay, dir);
  EXPECT_EQ(rp.exit_code, 0) << describe(replay, rp);
  EXPECT_THAT(rp.out, HasSubstr("identical"));

  const std::string resume = sh_quote(THAW_BINARY) + " train --resume " + sh_quote(dir / "run");
  const CommandResult rs = run_command(resume, dir);
  EXPECT_EQ(rs.exit_code, 2) << describe(resume, rs);
  EXPECT_THAT(rs.err, HasSubstr("an LR range test (thaw lr-find) cannot be resumed"));

  for (const std::string flag : {"--lr 0.1", "--epochs 3", "--lr-schedule cosine", "--max-steps 4"}) {
    const std::string bad = base + " " + flag + " --out " + sh_quote(dir / "bad");
    const CommandResult b = run_command(bad, dir);
    EXPECT_EQ(b.exit_code, 2) << describe(bad, b);
    EXPECT_THAT(b.err, HasSubstr(flag.substr(0, flag.find(' ')) + ": thaw lr-find sets it")) << flag;
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "bad")) << flag;
  }
  const std::string reversed = common + " --start-lr 10 --end-lr 1 --out " + sh_quote(dir / "bad");
  const CommandResult rv = run_command(reversed, dir);
  EXPECT_EQ(rv.exit_code, 2) << describe(reversed, rv);
  EXPECT_THAT(rv.err, HasSubstr("--start-lr: expected a rate below --end-lr"));
}

}  // namespace
}  // namespace thaw::testing
