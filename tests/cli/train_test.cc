// `thaw train` end to end on a few Fashion-MNIST images: the files of a run, the progress and the
// same bits from the same command twice.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_harness.h"

namespace thaw::testing {
namespace {

constexpr const char* kFashion = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";

std::string train_command(const std::string& out, const std::string& extra = "") {
  return std::string(THAW_BINARY) +
         " train --data fashion-mnist --input-size 75 --freeze-through mixed_6h --train-limit 48"
         " --val-limit 16 --batch-size 16 --epochs 2 --lr 0.01 --seed 4 --out " + sh_quote(out) + " " + extra;
}

TEST(TrainCommand, WritesARunAndRepeatsBitForBit) {
  if (!thaw_binary_exists()) GTEST_SKIP() << "thaw binary not built: " << THAW_BINARY;
  if (!std::filesystem::exists(kFashion)) GTEST_SKIP() << "Debian's dataset-fashion-mnist is not installed";
  ScratchDir dir;
  const CommandResult a = run_command(train_command(dir / "a"), dir);
  ASSERT_EQ(a.exit_code, 0) << describe("train a", a);
  EXPECT_NE(a.err.find("seeded random initialisation"), std::string::npos) << a.err;
  EXPECT_NE(a.err.find("img/s"), std::string::npos) << a.err;
  EXPECT_NE(a.out.find("held-out accuracy"), std::string::npos) << a.out;
  const CommandResult b = run_command(train_command(dir / "b"), dir);
  ASSERT_EQ(b.exit_code, 0) << describe("train b", b);

  const std::string wa = read_text(dir.path() / "a" / "weights.safetensors");
  const std::string wb = read_text(dir.path() / "b" / "weights.safetensors");
  ASSERT_GT(wa.size(), 100000000u);  // 41 M float parameters
  EXPECT_TRUE(wa == wb) << "two runs of the same command wrote different weights";

  // 48 samples in batches of 16: 3 steps per epoch, 2 epochs, each with a loss and its bits.
  std::istringstream metrics(read_text(dir.path() / "a" / "metrics.jsonl"));
  std::string line;
  int steps = 0, epochs = 0;
  while (std::getline(metrics, line)) {
    const auto j = nlohmann::json::parse(line);
    if (j.contains("step")) {
      ++steps;
      EXPECT_EQ(j["loss_bits"].get<std::string>().size(), 16u);
    }
    if (j.contains("epoch_end")) ++epochs;
  }
  EXPECT_EQ(steps, 6);
  EXPECT_EQ(epochs, 2);
  // Step lines carry no timing: they must match byte for byte.
  auto step_lines = [&](const std::string& run) {
    std::istringstream in(read_text(dir.path() / run / "metrics.jsonl"));
    std::string out, l;
    while (std::getline(in, l)) {
      if (l.find("\"loss_bits\"") != std::string::npos) out += l + "\n";
    }
    return out;
  };
  EXPECT_EQ(step_lines("a"), step_lines("b"));
  const auto summary = nlohmann::json::parse(read_text(dir.path() / "a" / "summary.json"));
  EXPECT_EQ(summary["trainable_parameters"].get<int64_t>(), 17'943'656 - 1'537'000 + 1536 * 10 + 10);

  // A run folder is not overwritten by accident.
  const CommandResult again = run_command(train_command(dir / "a"), dir);
  EXPECT_EQ(again.exit_code, 2) << describe("train again", again);
  EXPECT_NE(again.err.find("--overwrite"), std::string::npos) << again.err;
}

TEST(TrainCommand, BadFlagsExitWithTwo) {
  if (!thaw_binary_exists()) GTEST_SKIP() << "thaw binary not built: " << THAW_BINARY;
  ScratchDir dir;
  const struct {
    std::string args, expect;
  } cases[] = {
      {"--data /nonexistent/folder", "--data"},
      {"--lr-schedule wiggly", "--lr-schedule"},
      {"--optimizer lamb", "--optimizer"},
      {"--bn sometimes", "--bn"},
      {"--label-smoothing 1.5", "--label-smoothing"},
      {"--weights " + dir / "missing.safetensors", "missing.safetensors"},
  };
  for (const auto& c : cases) {
    const std::string cmd = train_command(dir / "run", c.args);
    const CommandResult r = run_command(cmd, dir);
    EXPECT_EQ(r.exit_code, 2) << describe(cmd, r);
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << describe(cmd, r);
  }
}

}  // namespace
}  // namespace thaw::testing
