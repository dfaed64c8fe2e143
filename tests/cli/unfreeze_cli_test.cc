// --unfreeze through the command: a schedule's first epoch is the same run, line for line, as a
// fixed freeze at its first point; blocks it never unfreezes keep their initial weights while the
// ones it does unfreeze train; the run is the same bits stopped and resumed at the change and
// after it, on two thread ranks, and in replay; a bad schedule is one line, exit 2, no run folder.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "graph/inception_v4.h"
#include "io/safetensors.h"
#include "tests/cli/cli_harness.h"
#include "tests/cli/idx_fixture.h"

namespace thaw::testing {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

class UnfreezeCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!thaw_binary_exists()) GTEST_SKIP() << "thaw binary not built: " << THAW_BINARY;
    write_idx_folder(dir_.path() / "idx");
  }
  // 8 images in batches of 4 (2 shards): 2 steps per epoch, 3 epochs.
  std::string train(const std::string& out, const std::string& extra) const {
    return std::string(THAW_BINARY) + " train --data " + sh_quote(dir_ / "idx") +
           " --input-size 75 --train-limit 8 --val-limit 2 --batch-size 4 --shards 2 --epochs 3 --lr 0.05"
           " --seed 7 --threads 2 --workers 1 --out " + sh_quote(dir_ / out) + " " + extra;
  }
  CommandResult run(const std::string& cmd) const { return run_command(cmd, dir_); }
  fs::path path(const std::string& name) const { return dir_.path() / name; }

  // The values of every tensor of `block` (timm's module prefix) in a weights file, in key order.
  std::vector<std::vector<float>> block_values(const std::string& run, const std::string& block) const {
    const Graph g = build_inception_v4(75, 3, 0.0);
    const std::string prefix = g.blocks[static_cast<size_t>(g.find_block(block))].alias + ".";
    const SafeTensorsFile f = SafeTensorsFile::read(path(run) / "weights.safetensors");
    std::vector<std::vector<float>> out;
    for (const std::string& n : f.names()) {
      if (n.rfind(prefix, 0) == 0 && !n.ends_with("num_batches_tracked")) out.push_back(f.to_float(n));
    }
    EXPECT_FALSE(out.empty()) << prefix;
    return out;
  }

  ScratchDir dir_;
};

constexpr const char* kSchedule = "--unfreeze mixed_7c@0,mixed_7b@1,mixed_7a@2";

TEST_F(UnfreezeCommand, ScheduleTrainsWhatItUnfreezesAndKeepsItsBits) {
  const CommandResult u = run(train("u", kSchedule));
  ASSERT_EQ(u.exit_code, 0) << describe("unfreezing run", u);
  EXPECT_THAT(u.err, HasSubstr("epoch 2: unfreezing, frozen through mixed_7b now"));
  EXPECT_THAT(u.err, HasSubstr("epoch 3: unfreezing, frozen through mixed_7a now"));
  EXPECT_EQ(read_json(path("u/record.json"))["config"]["unfreeze"], "mixed_7c@0,mixed_7b@1,mixed_7a@2");

  // Epoch 0 of the schedule is the fixed run at mixed_7c, line for line; step 2 on, it is not.
  const CommandResult f = run(train("f", "--freeze-through mixed_7c"));
  ASSERT_EQ(f.exit_code, 0) << describe("fixed run", f);
  const auto us = read_json_lines(path("u/steps.jsonl")), fs_ = read_json_lines(path("f/steps.jsonl"));
  ASSERT_EQ(us.size(), 6u);
  ASSERT_EQ(fs_.size(), 6u);
  EXPECT_EQ(us[0], fs_[0]);
  EXPECT_EQ(us[1], fs_[1]);
  EXPECT_NE(us[2]["param_checksum"], fs_[2]["param_checksum"]);
  // mixed_7a is frozen in both runs: the seeded initial weights. mixed_7b trained in the schedule's
  // last epoch only, mixed_7c from its second: both differ from the fixed run's untouched ones.
  EXPECT_EQ(block_values("u", "mixed_7a"), block_values("f", "mixed_7a"));
  EXPECT_NE(block_values("u", "mixed_7b"), block_values("f", "mixed_7b"));
  EXPECT_NE(block_values("u", "mixed_7c"), block_values("f", "mixed_7c"));

  // Stopped at the change (a checkpoint of the old plan's optimizer) and after it (the new one's),
  // then resumed: the bits of the straight run.
  for (int stop : {2, 3}) {
    const std::string name = "stop" + std::to_string(stop);
    const CommandResult p = run(train(name, std::string(kSchedule) + " --stop-at-step " + std::to_string(stop)));
    ASSERT_EQ(p.exit_code, 0) << describe("stopped run", p);
    const std::string resume = std::string(THAW_BINARY) + " train --resume " + sh_quote(dir_ / name);
    const CommandResult r = run(resume);
    ASSERT_EQ(r.exit_code, 0) << describe(resume, r);
    EXPECT_EQ(read_json_lines(path(name + "/steps.jsonl")), us) << "stopped after step " << stop;
    EXPECT_TRUE(read_text(path(name + "/weights.safetensors")) == read_text(path("u/weights.safetensors")))
        << "stopped after step " << stop;
  }

  // Two thread ranks: the same bits.
  const CommandResult r2 = run(train("r2", std::string(kSchedule) + " --ranks 2"));
  ASSERT_EQ(r2.exit_code, 0) << describe("two ranks", r2);
  EXPECT_EQ(read_json_lines(path("r2/steps.jsonl")), us);
  EXPECT_TRUE(read_text(path("r2/weights.safetensors")) == read_text(path("u/weights.safetensors")));

  const std::string replay = std::string(THAW_BINARY) + " replay " + sh_quote(dir_ / "u");
  const CommandResult rp = run(replay);
  EXPECT_EQ(rp.exit_code, 0) << describe(replay, rp);
  EXPECT_THAT(rp.out, HasSubstr("identical"));
}

TEST_F(UnfreezeCommand, BadSchedulesStopBeforeAnyWork) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--unfreeze mixed_7b@0,mixed_7c@1", "--unfreeze: each freeze point must come before the last"},
      {"--unfreeze mixed_7c@0,mixed_7b@3", "--unfreeze: 'mixed_7b@3' is past the run's last epoch"},
      {"--unfreeze mixed_7c@0,mixed_7b@1 --optimizer adamw", "--unfreeze: with AdamW"},
      {"--unfreeze mixed_7c@0 --freeze-through mixed_6h", "--unfreeze: its epoch-0 point is the first freeze point"},
  };
  for (const auto& [flags, message] : cases) {
    const CommandResult r = run(train("bad", flags));
    EXPECT_EQ(r.exit_code, 2) << describe(flags, r);
    EXPECT_THAT(r.err, HasSubstr(message)) << flags;
    EXPECT_FALSE(fs::exists(path("bad/record.json"))) << flags;
  }
}

}  // namespace
}  // namespace thaw::testing
