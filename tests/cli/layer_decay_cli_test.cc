// --layer-decay and --lr-groups through the command: recorded in the run's config, replayed bit for bit, and a real
// change of the training (mixed_7d learns at D x the head's rate); refused on the GPU step, which
// has one rate for every parameter yet.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_harness.h"
#include "tests/cli/idx_fixture.h"

namespace thaw::testing {
namespace {

TEST(LayerDecayCli, RecordedReplayedAndChangesTheRunAsLrGroupsDo) {
  if (!thaw_binary_exists()) GTEST_SKIP() << "thaw binary not built: " << THAW_BINARY;
  ScratchDir dir;
  write_idx_folder(dir.path() / "idx");
  const auto train = [&](const std::string& out, const std::string& extra) {
    return sh_quote(THAW_BINARY) + " train --data " + sh_quote(dir / "idx") +
           " --input-size 75 --freeze-through mixed_7c --train-limit 4 --val-limit 2 --batch-size 2 --epochs 1"
           " --seed 5 --threads 2 --workers 1 --out " + sh_quote(dir / out) + " " + extra;
  };
  const CommandResult d = run_command(train("decay", "--layer-decay 0.5"), dir);
  ASSERT_EQ(d.exit_code, 0) << describe("train --layer-decay", d);
  const CommandResult p = run_command(train("plain", ""), dir);
  ASSERT_EQ(p.exit_code, 0) << describe("train", p);
  EXPECT_EQ(read_json(dir.path() / "decay/record.json")["config"]["layer_decay"], 0.5);
  EXPECT_EQ(read_json(dir.path() / "plain/record.json")["config"]["layer_decay"], 1.0);
  EXPECT_FALSE(read_text(dir.path() / "decay/weights.safetensors") == read_text(dir.path() / "plain/weights.safetensors"));
  // With mixed_7d and the head trainable, --lr-groups mixed_7d=0.5 gives the same rates as
  // --layer-decay 0.5: the same bits.
  const CommandResult gr = run_command(train("groups", "--lr-groups mixed_7d=0.5"), dir);
  ASSERT_EQ(gr.exit_code, 0) << describe("train --lr-groups", gr);
  EXPECT_EQ(read_json(dir.path() / "groups/record.json")["config"]["lr_groups"], "mixed_7d=0.5");
  EXPECT_TRUE(read_text(dir.path() / "groups/weights.safetensors") == read_text(dir.path() / "decay/weights.safetensors"));
  const std::string replay = sh_quote(THAW_BINARY) + " replay " + sh_quote(dir / "decay");
  const CommandResult r = run_command(replay, dir);
  EXPECT_EQ(r.exit_code, 0) << describe(replay, r);
  EXPECT_NE(r.out.find("identical"), std::string::npos) << r.out;

  const CommandResult gpu = run_command(train("gpu", "--layer-decay 0.5 --device cuda"), dir);
  expect_refusal(gpu, "--layer-decay on the GPU", {"--layer-decay: the GPU step has one learning rate"});
}

}  // namespace
}  // namespace thaw::testing
