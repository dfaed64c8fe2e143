// Stop and resume: a run stopped in the middle of an epoch and resumed with `thaw train --resume`
// ends with the bits of the run that never stopped (weights file, steps.jsonl line for line, final
// state), for SGD with momentum and for AdamW with dropout; a damaged newest checkpoint is skipped
// for an older whole one. Every refusal is one line naming the file or flag, with exit code 2.
// (tests/cli/interrupt_test.cc stops runs by signals and replays the resumed run.)
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_harness.h"
#include "tests/cli/idx_fixture.h"

namespace thaw::testing {
namespace {

namespace fs = std::filesystem;

class ResumeCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!thaw_binary_exists()) GTEST_SKIP() << "thaw binary not built: " << THAW_BINARY;
    write_idx_folder(dir_.path() / "idx");
  }

  // 6 training images in batches of 2: 3 steps per epoch, by default 2 epochs, 6 steps; mixed_7d
  // and the head train (their batch norms too).
  std::string train(const std::string& out, const std::string& extra, int epochs = 2) const {
    return std::string(THAW_BINARY) + " train --data " + sh_quote(dir_ / "idx") +
           " --input-size 75 --freeze-through mixed_7c --train-limit 6 --val-limit 2 --batch-size 2 --epochs " +
           std::to_string(epochs) + " --seed 11 --threads 2 --workers 1 --out " + sh_quote(dir_ / out) + " " + extra;
  }
  std::string resume(const std::string& run, const std::string& extra = "") const {
    return std::string(THAW_BINARY) + " train --resume " + sh_quote(dir_ / run) + " " + extra;
  }
  CommandResult run(const std::string& cmd) const { return run_command(cmd, dir_); }
  fs::path path(const std::string& name) const { return dir_.path() / name; }

  // Runs `options` straight and stopped after `stop` steps then resumed; the two must agree.
  // Runs `options` straight, and stopped after `stop` steps then resumed; the two must agree.
  // `stopped_files`: the checkpoints after the stop; `final_files`: after the resumed run ends;
  // `straight_files`: those of the straight run. With `damage_newest`, one bit of the newest
  // checkpoint's data is flipped before resuming: the run must go on from the one before.
  void check_stop_and_resume(const std::string& options, int stop, const std::vector<std::string>& stopped_files,
                             const std::vector<std::string>& final_files,
                             const std::vector<std::string>& straight_files, bool damage_newest) {
    const CommandResult s = run(train("straight", options));
    ASSERT_EQ(s.exit_code, 0) << describe("straight run", s);

    const CommandResult p = run(train("parts", options + " --stop-at-step " + std::to_string(stop)));
    ASSERT_EQ(p.exit_code, 0) << describe("stopped run", p);
    EXPECT_NE(p.err.find("stopped (--stop-at-step) after step " + std::to_string(stop) + " of 6"), std::string::npos)
        << p.err;
    EXPECT_NE(p.err.find("continue with: thaw train --resume " + (dir_ / "parts")), std::string::npos) << p.err;
    EXPECT_FALSE(fs::exists(path("parts/weights.safetensors")));
    const nlohmann::json stopped = read_json(path("parts/record.json"));
    EXPECT_EQ(stopped["status"], "stopped");
    EXPECT_EQ(stopped["stopped"]["steps_done"], stop);
    EXPECT_EQ(stopped["stopped"]["reason"], "--stop-at-step");
    EXPECT_EQ(checkpoint_names(path("parts")), stopped_files);
    EXPECT_EQ(read_json_lines(path("parts/steps.jsonl")).size(), static_cast<size_t>(stop));

    const fs::path newest = path("parts") / stopped_files.back();
    const fs::path before = path("parts") / stopped_files[stopped_files.size() - 2];
    if (damage_newest) {
      std::fstream f(newest, std::ios::in | std::ios::out | std::ios::binary);
      f.seekg(-3, std::ios::end);
      const char c = static_cast<char>(f.peek());
      f.seekp(-3, std::ios::end);
      f.put(static_cast<char>(c ^ 1));
    }
    const CommandResult r = run(resume("parts"));
    ASSERT_EQ(r.exit_code, 0) << describe("resume", r);
    EXPECT_NE(r.err.find("resuming " + (dir_ / "parts") + " from " + (damage_newest ? before : newest).string()),
              std::string::npos)
        << r.err;
    if (damage_newest) {
      EXPECT_NE(r.err.find("skipped a damaged checkpoint: " + newest.string() +
                           ": tensor data does not match its recorded SHA-256"),
                std::string::npos)
          << r.err;
    }

    // The same bits: every step line (losses, gradient norms, batches, chained parameter
    // checksums), the saved weights and the final state with its running statistics.
    EXPECT_EQ(read_text(path("parts/steps.jsonl")), read_text(path("straight/steps.jsonl")));
    EXPECT_TRUE(read_text(path("parts/weights.safetensors")) == read_text(path("straight/weights.safetensors")))
        << "the resumed run saved other weights than the straight one";
    const nlohmann::json a = read_json(path("straight/record.json"));
    const nlohmann::json b = read_json(path("parts/record.json"));
    EXPECT_EQ(b["status"], "complete");
    EXPECT_FALSE(b.contains("stopped"));
    EXPECT_EQ(b["result"]["final_state_sha256"], a["result"]["final_state_sha256"]);
    EXPECT_EQ(b["result"]["steps"], 6);
    ASSERT_EQ(b["resumes"].size(), 1u);
    const nlohmann::json& entry = b["resumes"][0];
    EXPECT_EQ(entry["from_checkpoint"], (damage_newest ? before : newest).filename().string());
    EXPECT_EQ(entry["skipped_checkpoints"].size(), damage_newest ? 1u : 0u);
    // summary.json lists both epochs, the one finished before the stop too, with its numbers.
    const nlohmann::json sa = read_json(path("straight/summary.json"));
    const nlohmann::json sb = read_json(path("parts/summary.json"));
    ASSERT_EQ(sb["epochs"].size(), 2u);
    EXPECT_EQ(sb["epochs"][0]["val_loss"], sa["epochs"][0]["val_loss"]);
    EXPECT_EQ(sb["epochs"][1]["val_loss"], sa["epochs"][1]["val_loss"]);
    EXPECT_EQ(sb["epochs"][1]["train_loss"], sa["epochs"][1]["train_loss"]);
    EXPECT_EQ(checkpoint_names(path("parts")), final_files);
    EXPECT_EQ(checkpoint_names(path("straight")), straight_files);
    expect_same_summary(sa, sb, stop);
  }

  // The resumed run's summary.json describes the straight run, field by field, apart from the times
  // and the commands: its data (not the default), weights, classes, freeze point, steps, epochs.
  static void expect_same_summary(const nlohmann::json& straight, const nlohmann::json& parts, int stop) {
    nlohmann::json a = straight, b = parts;
    for (nlohmann::json* j : {&a, &b}) {
      j->erase("command");
      j->erase("resume_commands");
      for (auto& e : (*j)["epochs"]) {
        e.erase("seconds");
        e.erase("images_per_s");
      }
    }
    EXPECT_EQ(b, a) << "straight:\n" << straight.dump(1) << "\nresumed:\n" << parts.dump(1);
    EXPECT_NE(parts["command"].get<std::string>().find("--stop-at-step " + std::to_string(stop)), std::string::npos);
    ASSERT_EQ(parts["resume_commands"].size(), 1u);
    EXPECT_NE(parts["resume_commands"][0].get<std::string>().find("--resume"), std::string::npos);
    // The stopped epoch's time covers its steps before and after the stop: 3 steps of 2 images.
    for (const auto& e : parts["epochs"]) {
      EXPECT_NEAR(e["images_per_s"].get<double>() * e["seconds"].get<double>(), 6.0, 1e-6) << e.dump();
    }
  }

  ScratchDir dir_;
};

TEST_F(ResumeCommand, SgdWithMomentumStoppedInsideAnEpoch) {
  // Checkpoints at each epoch's end (3, 6) and at the stop (4); the newest two kept.
  check_stop_and_resume("--lr 0.05 --momentum 0.9", 4,
                        {"checkpoint-000000003.safetensors", "checkpoint-000000004.safetensors"},
                        {"checkpoint-000000004.safetensors", "checkpoint-000000006.safetensors"},
                        {"checkpoint-000000003.safetensors", "checkpoint-000000006.safetensors"}, false);
}

TEST_F(ResumeCommand, AdamWWithDropoutFromTheCheckpointBeforeADamagedOne) {
  // Dropout masks are keyed by the step: a resumed run must draw the same ones. Checkpoints every
  // 2 steps and at the stop (5); the damaged 5 is skipped, the run goes on from 4, and 5 is
  // deleted before the resumed run writes its own.
  check_stop_and_resume(
      "--optimizer adamw --lr 0.001 --weight-decay 0.05 --dropout 0.3 --checkpoint-every 2 --keep-checkpoints 3", 5,
      {"checkpoint-000000002.safetensors", "checkpoint-000000004.safetensors", "checkpoint-000000005.safetensors"},
      {"checkpoint-000000002.safetensors", "checkpoint-000000004.safetensors", "checkpoint-000000006.safetensors"},
      {"checkpoint-000000002.safetensors", "checkpoint-000000004.safetensors", "checkpoint-000000006.safetensors"},
      true);
}

TEST_F(ResumeCommand, BadCheckpointsAndFoldersAreRefusedNamingTheFile) {
  // 3 steps each (one epoch), stopped after the first.
  const std::string stop1 = "--lr 0.05 --keep-checkpoints 1 --stop-at-step 1";
  ASSERT_EQ(run(train("a", stop1, 1)).exit_code, 0);
  ASSERT_EQ(run(train("b", stop1 + " --momentum 0.5", 1)).exit_code, 0);
  const fs::path ckpt = path("a/checkpoint-000000001.safetensors");
  ASSERT_TRUE(fs::exists(ckpt));
  const std::string whole = read_text(ckpt);

  // Truncated to half its size.
  std::ofstream(ckpt, std::ios::binary | std::ios::trunc)
      .write(whole.data(), static_cast<std::streamsize>(whole.size() / 2));
  expect_refusal(run(resume("a")), "truncated checkpoint", {ckpt.string()});

  // A header length past the end of the file.
  std::string header = whole;
  for (int i = 0; i < 8; ++i) header[static_cast<size_t>(i)] = i == 4 ? '\x01' : '\0';
  std::ofstream(ckpt, std::ios::binary | std::ios::trunc)
      .write(header.data(), static_cast<std::streamsize>(header.size()));
  expect_refusal(run(resume("a")), "header longer than the file", {ckpt.string(), "header"});

  // Another run's checkpoint (another momentum) under this run's name.
  fs::copy_file(path("b/checkpoint-000000001.safetensors"), ckpt, fs::copy_options::overwrite_existing);
  expect_refusal(run(resume("a")), "foreign checkpoint", {ckpt.string(), "another run configuration"});

  // No checkpoint at all.
  fs::remove(ckpt);
  expect_refusal(run(resume("a")), "no checkpoint", {dir_ / "a", "no checkpoint to resume from"});

  // The folder is intact after every refusal: the other run still resumes.
  expect_refusal(run(resume("b", "--lr 0.1")), "a training flag with --resume", {"--lr", "record.json"});
  expect_refusal(run(resume("b", "--stop-at-step 1")), "a stop before the resume point",
                 {"--stop-at-step 1: the run goes on from step 1"});
  expect_refusal(run(train("c", "--keep-checkpoints 0")), "no checkpoint kept", {"--keep-checkpoints"});
  const CommandResult ok = run(resume("b", "--threads 1"));
  ASSERT_EQ(ok.exit_code, 0) << describe("resume b", ok);
  expect_refusal(run(resume("b")), "a complete run", {dir_ / "b", "complete"});
  expect_refusal(run(resume("idx")), "not a run folder", {"record.json"});
}

}  // namespace
}  // namespace thaw::testing
