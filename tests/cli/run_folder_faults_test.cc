// A run folder is one run's evidence, whatever happens to the processes around it: a second
// process on a folder a live run holds is refused at once (with --overwrite and --resume too, and
// replay does not read the half-written record); a run killed with -9 leaves no lock and reads as
// "interrupted"; thaw's temporaries left by a dead writer are removed on the next start, and only
// those; a run that fails on a full disk says "failed" in its record.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "engine/run/record.h"
#include "engine/run/run_lock.h"
#include "tests/cli/cli_harness.h"
#include "tests/cli/idx_fixture.h"
#include "tests/support/dead_pid.h"

namespace thaw::testing {
namespace {

namespace fs = std::filesystem;

class RunFolderFaults : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!thaw_binary_exists()) GTEST_SKIP() << "thaw binary not built: " << THAW_BINARY;
    write_idx_folder(dir_.path() / "idx");
  }
  void TearDown() override {
    if (background_ > 0) {
      ::kill(-background_, SIGKILL);
      int status = 0;
      ::waitpid(background_, &status, 0);
    }
  }

  std::string train(const std::string& out, const std::string& extra) const {
    return sh_quote(THAW_BINARY) + " train --data " + sh_quote(dir_ / "idx") +
           " --input-size 75 --freeze-through mixed_7c --train-limit 6 --val-limit 2 --batch-size 2 --seed 3"
           " --threads 1 --workers 1 --out " +
           sh_quote(dir_ / out) + " " + extra;
  }
  CommandResult run(const std::string& cmd) const { return run_command(cmd, dir_); }
  fs::path path(const std::string& name) const { return dir_.path() / name; }

  // Starts `command` (through sh, in a process group of its own, so that a sweep's arms go with it)
  // and waits until it holds `run`'s lock and has written `marker` there.
  void start_and_wait_for_lock(const std::string& command, const fs::path& run,
                               const std::string& marker = "record.json") {
    background_ = ::fork();
    if (background_ == 0) {
      ::setpgid(0, 0);
      const std::string cmd = "exec " + command + " >/dev/null 2>&1";
      ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (std::chrono::steady_clock::now() < deadline) {
      if (run_folder_holder(run) == background_ && fs::exists(run / marker)) return;
      int status = 0;
      if (::waitpid(background_, &status, WNOHANG) == background_) {
        background_ = -1;
        FAIL() << "the background command ended before it held " << run << ": " << command;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL() << "the background run never held " << run;
  }

  void kill_background() {
    ::kill(-background_, SIGKILL);
    int status = 0;
    ::waitpid(background_, &status, 0);
    background_ = -1;
  }

  ScratchDir dir_;
  pid_t background_ = -1;
};

TEST_F(RunFolderFaults, ASecondProcessOnALiveRunIsRefusedAndAKilledRunReadsInterrupted) {
  const fs::path live = path("live");
  start_and_wait_for_lock(train("live", "--epochs 1000 --checkpoint-every 1000000"), live);
  const std::string pid = "(pid " + std::to_string(background_) + ")";
  const std::string in_use = live.string() + " is in use by another thaw process " + pid;

  expect_refusal(run(train("live", "--epochs 1")), "same --out", {"--out: " + in_use});
  expect_refusal(run(train("live", "--epochs 1 --overwrite")), "--overwrite", {"--out: " + in_use});
  expect_refusal(run(sh_quote(THAW_BINARY) + " train --resume " + sh_quote(live.string())), "--resume",
                  {"--resume: " + in_use});
  expect_refusal(run(sh_quote(THAW_BINARY) + " replay " + sh_quote(live.string())), "replay",
                  {live.string(), pid, "still training"});
  EXPECT_EQ(read_json(live / "record.json")["status"], "running");

  // kill -9: the kernel drops the lock; the record on disk still says "running", and what reads the
  // folder calls it "interrupted". The folder can be taken over at once.
  kill_background();
  EXPECT_EQ(run_folder_holder(live), 0);
  EXPECT_EQ(read_json(live / "record.json")["status"], "running");
  EXPECT_EQ(read_record(live)["status"], "interrupted");
  const CommandResult again = run(train("live", "--epochs 1 --overwrite"));
  EXPECT_EQ(again.exit_code, 0) << describe("taking over a dead run's folder", again);
  EXPECT_EQ(read_json(live / "record.json")["status"], "complete");
}

TEST_F(RunFolderFaults, ASecondSweepOnALiveSweepsFolderIsRefused) {
  const fs::path sweep = path("sweep");
  const std::string args = " sweep --data " + sh_quote((dir_.path() / "idx").string()) +
                           " --input-size 75 --freeze-through mixed_7c --val-fraction 0.25 --train-limit 6 --val-limit 2 --test-limit 2"
                           " --batch-size 2 --threads 1 --workers 1 --out " + sh_quote(sweep.string());
  start_and_wait_for_lock(sh_quote(THAW_BINARY) + args + " --epochs 1000", sweep, "sweep.json");
  const std::string in_use = "--out: " + sweep.string() + " is in use by another thaw process (pid " +
                             std::to_string(background_) + ")";
  expect_refusal(run(sh_quote(THAW_BINARY) + args + " --epochs 1 --overwrite"), "sweep --overwrite", {in_use});
  expect_refusal(run(sh_quote(THAW_BINARY) + args + " --epochs 1 --resume"), "sweep --resume", {in_use});
  kill_background();
  EXPECT_EQ(run_folder_holder(sweep), 0);
}

TEST_F(RunFolderFaults, ADeadWritersTemporariesAreRemovedAndNothingElse) {
  const CommandResult first = run(train("r", "--epochs 2 --stop-at-step 4"));
  ASSERT_EQ(first.exit_code, 0) << describe("stopped run", first);
  // What a kill -9 in the middle of a checkpoint leaves, and files that are not thaw's.
  const std::string stale = ".checkpoint-000000005.safetensors.tmp-" + std::to_string(testkit::dead_pid()) + "-0";
  std::ofstream(path("r") / stale) << std::string(3 << 20, 'x');
  std::ofstream(path("r") / ".notes.tmp") << "mine";
  std::ofstream(path("r") / "notes.csv") << "a,b\n";
  std::ofstream(path("r") / ".x.tmp-12ab-0") << "not ours either";

  const CommandResult r = run(sh_quote(THAW_BINARY) + " train --resume " + sh_quote(path("r").string()));
  ASSERT_EQ(r.exit_code, 0) << describe("resume", r);
  EXPECT_NE(r.err.find("removed 1 temporary file (3 MiB) left in " + path("r").string() + " by a thaw process that died"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(path("r") / stale));
  EXPECT_TRUE(fs::exists(path("r") / ".notes.tmp"));
  EXPECT_TRUE(fs::exists(path("r") / "notes.csv"));
  EXPECT_TRUE(fs::exists(path("r") / ".x.tmp-12ab-0"));
  EXPECT_EQ(read_json(path("r") / "record.json")["status"], "complete");
}

// kill -9 in the middle of a run that checkpoints every step, twice: once in the first run and once
// in its resume, each at a moment drawn from a seeded generator up to 250 ms after a given
// checkpoint appears (so it lands in a step, in a checkpoint's write or in the record's), then a
// final --resume: the run ends with the bits of a run never killed, and no temporary file is left.
TEST_F(RunFolderFaults, KillsMinus9AtRandomMomentsThenResumeGiveTheUnkilledBitsAndNoDebris) {
  const std::string opts = "--epochs 3 --checkpoint-every 1 --keep-checkpoints 2";
  const CommandResult straight = run(train("straight", opts));
  ASSERT_EQ(straight.exit_code, 0) << describe("straight run", straight);

  const fs::path killed = path("killed");
  const std::string resume = sh_quote(THAW_BINARY) + " train --resume " + sh_quote(killed.string());
  std::mt19937 rng(20261205);
  const struct {
    std::string command, after;
  } kills[] = {{train("killed", opts), "checkpoint-000000002.safetensors"},
               {resume, "checkpoint-000000005.safetensors"}};
  for (const auto& k : kills) {
    start_and_wait_for_lock(k.command, killed);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (!fs::exists(killed / k.after) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    ASSERT_TRUE(fs::exists(killed / k.after)) << k.command;
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 250)(rng)));
    kill_background();
    EXPECT_EQ(read_record(killed)["status"], "interrupted");
  }

  const CommandResult r = run(resume);
  ASSERT_EQ(r.exit_code, 0) << describe("resume after kill -9", r);
  EXPECT_EQ(read_text(killed / "steps.jsonl"), read_text(path("straight") / "steps.jsonl"));
  EXPECT_TRUE(read_text(killed / "weights.safetensors") == read_text(path("straight") / "weights.safetensors"))
      << "the resumed run saved other weights than the straight one";
  const nlohmann::json rec = read_json(killed / "record.json");
  EXPECT_EQ(rec["status"], "complete");
  EXPECT_EQ(rec["resumes"].size(), 2u);
  for (const auto& e : fs::directory_iterator(killed)) {
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << "left behind: " << e.path();
  }
}

// A full disk, made by RLIMIT_FSIZE (the shell's ulimit -f, in 512-byte blocks) with SIGXFSZ
// ignored so that the write fails with EFBIG instead of killing the process: the checkpoint of
// ~170 MB cannot be written, the small record can.
TEST_F(RunFolderFaults, ARunThatFailsOnAFullDiskSaysFailedInItsRecord) {
  const std::string cmd = "sh -c " + sh_quote("trap '' XFSZ; ulimit -f 20000; exec " + train("full", "--epochs 1"));
  const CommandResult r = run(cmd);
  EXPECT_EQ(r.exit_code, 2) << describe(cmd, r);
  const std::string err = trim_right(r.err);
  const std::string last = err.substr(err.rfind('\n') + 1);  // after the progress lines of the epoch
  EXPECT_TRUE(last.starts_with("thaw: error: cannot write ")) << err;
  EXPECT_NE(last.find("checkpoint-000000003.safetensors: File too large"), std::string::npos) << err;
  const nlohmann::json rec = read_json(path("full") / "record.json");
  EXPECT_EQ(rec["status"], "failed");
  EXPECT_NE(rec["failed"]["error"].get<std::string>().find("cannot write"), std::string::npos) << rec.dump(1);
  for (const auto& e : fs::directory_iterator(path("full"))) {
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << "left behind: " << e.path();
  }
}

}  // namespace
}  // namespace thaw::testing
