// `thaw bench --profile` on the CPU: the JSON line carries the per-op-kind and per-block times of
// the timed steps (engine/model/step_profile.h), and they account for most of the step.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_harness.h"

namespace thaw::testing {
namespace {

TEST(BenchProfile, TheJsonLineHasTheProfile) {
  if (!thaw_binary_exists()) GTEST_SKIP() << "thaw binary not built: " << THAW_BINARY;
  const ScratchDir dir;
  const std::string cmd = sh_quote(THAW_BINARY) +
                          " bench --profile --json --batch-size 2 --input-size 75 --steps 2 --warmup 0 "
                          "--freeze-through mixed_6h --threads 1";
  const CommandResult r = run_command(cmd, dir);
  ASSERT_EQ(r.exit_code, 0) << describe(cmd, r);
  const auto j = nlohmann::json::parse(r.out);
  const auto& p = j.at("profile");
  EXPECT_EQ(p.at("steps"), 2);
  EXPECT_GT(p.at("kinds").at("conv fwd").get<double>(), 0.0);
  EXPECT_GT(p.at("kinds").at("conv wgrad").get<double>(), 0.0);
  EXPECT_GT(p.at("other").at("optimizer").get<double>(), 0.0);
  EXPECT_EQ(p.at("blocks").size(), 23u);  // the stem's and Inception's 22 blocks and the head
  const double step_ms = j.at("step_ms").get<double>();
  EXPECT_LE(p.at("total_ms").get<double>(), step_ms * 1.01);
  EXPECT_GT(p.at("total_ms").get<double>(), 0.5 * step_ms);
}

}  // namespace
}  // namespace thaw::testing
