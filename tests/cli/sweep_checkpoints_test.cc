// A finished sweep arm keeps its weights and loses its checkpoints (a finished arm never resumes),
// unless --keep-arm-checkpoints; `thaw replay` of an arm needs none. One arm on a few Fashion-MNIST
// images: trained once keeping its checkpoint, then a --resume without the flag removes it.
#include <gtest/gtest.h>

#include "tests/cli/cli_harness.h"

namespace thaw::testing {
namespace {

constexpr const char* kFashion = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";

int count_checkpoints(const std::filesystem::path& run) {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(run)) {
    n += e.path().filename().string().rfind("checkpoint-", 0) == 0;
  }
  return n;
}

TEST(SweepCheckpoints, FinishedArmsLoseTheirCheckpointsUnlessKept) {
  if (!thaw_binary_exists()) GTEST_SKIP() << "thaw binary not built: " << THAW_BINARY;
  if (!std::filesystem::exists(kFashion)) GTEST_SKIP() << "Debian's dataset-fashion-mnist is not installed";
  ScratchDir dir;
  const std::filesystem::path out = dir.path() / "sweep";
  const std::filesystem::path arm = out / "arms" / "mixed_7d";
  const std::string sweep = std::string(THAW_BINARY) +
                            " sweep --data fashion-mnist --input-size 75 --class-subset 5-6 --val-fraction 0.05"
                            " --freeze-through mixed_7d --out " + sh_quote(out.string()) +
                            " --test-limit 8 --bootstrap 20 --train-limit 8 --val-limit 8 --batch-size 8 --shards 1"
                            " --epochs 1 --keep-checkpoints 1";
  const CommandResult kept = run_command(sweep + " --keep-arm-checkpoints", dir);
  ASSERT_EQ(kept.exit_code, 0) << describe(sweep, kept);
  EXPECT_EQ(count_checkpoints(arm), 1);
  EXPECT_EQ(kept.err.find("removed its"), std::string::npos) << kept.err;

  const CommandResult resumed = run_command(sweep + " --resume", dir);
  ASSERT_EQ(resumed.exit_code, 0) << describe(sweep + " --resume", resumed);
  EXPECT_EQ(count_checkpoints(arm), 0);
  EXPECT_TRUE(std::filesystem::exists(arm / "weights.safetensors"));
  EXPECT_NE(resumed.err.find("thaw: sweep arm mixed_7d finished: removed its 1 checkpoint ("), std::string::npos)
      << resumed.err;

  // The record replays from the run folder alone: no checkpoint needed.
  const std::string replay = std::string(THAW_BINARY) + " replay " + sh_quote(arm.string());
  const CommandResult r = run_command(replay, dir);
  EXPECT_EQ(r.exit_code, 0) << describe(replay, r);
}

}  // namespace
}  // namespace thaw::testing
