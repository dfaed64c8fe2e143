// Ctrl-C and SIGTERM during `thaw train`: the step in progress finishes, a checkpoint is written,
// the process exits with 128 + the signal and says how to resume; the resumed run (on two thread
// ranks, stopped once more by the other signal) finishes on one, and `thaw replay` finds it
// identical to a run that never stopped.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_harness.h"
#include "tests/cli/idx_fixture.h"

extern char** environ;

namespace thaw::testing {
namespace {

namespace fs = std::filesystem;

// Lines in a file so far (0 when it does not exist yet).
size_t line_count(const fs::path& p) {
  const std::string t = read_text(p);
  return static_cast<size_t>(std::count(t.begin(), t.end(), '\n'));
}

// Starts `args` with stdout and stderr in files, SIGINT and SIGTERM at their default actions
// whatever the test runner does with them, waits until `steps_file` holds more than `after`
// lines, sends `sig` and waits for the exit.
CommandResult run_and_signal(const std::vector<std::string>& args, const ScratchDir& dir, const fs::path& steps_file,
                             size_t after, int sig) {
  const std::string out_path = dir / "sig.stdout", err_path = dir / "sig.stderr";
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, argv[0], &fa, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  CommandResult r;
  if (rc != 0) {
    r.err = "posix_spawn failed";
    return r;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  int status = 0;
  bool exited = false;
  while (line_count(steps_file) <= after && std::chrono::steady_clock::now() < deadline) {
    if (waitpid(pid, &status, WNOHANG) == pid) {
      exited = true;  // ended before the signal: the test fails on the exit code below
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!exited) {
    kill(pid, sig);
    waitpid(pid, &status, 0);
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = read_text(out_path);
  r.err = read_text(err_path);
  return r;
}

TEST(InterruptTraining, SignalsStopWithACheckpointAndTheResumedRunIsBitwise) {
  if (!thaw_binary_exists()) GTEST_SKIP() << "thaw binary not built: " << THAW_BINARY;
  ScratchDir dir;
  write_idx_folder(dir.path() / "idx");
  const fs::path run = dir.path() / "run";
  const fs::path steps = run / "steps.jsonl";
  // 4 images in batches of 2, 5 epochs: 10 steps; the signals come after the first step of each
  // part, so there are always steps left for the next. Two virtual shards of one image (batch norm
  // on running statistics, as one-image shards need), so that the middle part can run on two
  // thread ranks: the stop is agreed between them after the same step.
  const std::vector<std::string> train = {
      THAW_BINARY,     "train", "--data",      dir / "idx", "--input-size", "75",        "--freeze-through", "mixed_7c",
      "--train-limit", "4",     "--val-limit", "2",         "--batch-size", "2",         "--epochs",         "5",
      "--lr",          "0.05",  "--seed",      "5",         "--threads",    "2",         "--workers",        "1",
      "--shards",      "2",     "--bn",        "frozen",    "--out",        run.string()};

  const CommandResult a = run_and_signal(train, dir, steps, 0, SIGINT);
  ASSERT_EQ(a.exit_code, 128 + SIGINT) << describe("train, then SIGINT", a);
  const size_t k = line_count(steps);
  ASSERT_GE(k, 1u);
  ASSERT_LT(k, 8u);
  EXPECT_NE(a.err.find("stopped by SIGINT after step " + std::to_string(k) + " of 10"), std::string::npos) << a.err;
  EXPECT_NE(a.err.find("continue with: thaw train --resume " + run.string()), std::string::npos) << a.err;
  char name[64];
  std::snprintf(name, sizeof name, "checkpoint-%09zu.safetensors", k);
  EXPECT_TRUE(fs::exists(run / name)) << name;
  nlohmann::json rec = read_json(run / "record.json");
  EXPECT_EQ(rec["status"], "stopped");
  EXPECT_EQ(rec["stopped"]["reason"], "SIGINT");
  EXPECT_EQ(rec["stopped"]["steps_done"], k);
  EXPECT_FALSE(fs::exists(run / "weights.safetensors"));

  const std::vector<std::string> resume = {THAW_BINARY, "train", "--resume",  run.string(),
                                           "--ranks",   "2",     "--threads", "1"};
  const CommandResult b = run_and_signal(resume, dir, steps, k, SIGTERM);
  ASSERT_EQ(b.exit_code, 128 + SIGTERM) << describe("resume, then SIGTERM", b);
  const size_t k2 = line_count(steps);
  ASSERT_GT(k2, k);
  EXPECT_NE(b.err.find("stopped by SIGTERM after step " + std::to_string(k2)), std::string::npos) << b.err;
  rec = read_json(run / "record.json");
  EXPECT_EQ(rec["stopped"]["reason"], "SIGTERM");

  const CommandResult c = run_command(std::string(THAW_BINARY) + " train --resume " + sh_quote(run.string()), dir);
  ASSERT_EQ(c.exit_code, 0) << describe("second resume", c);
  rec = read_json(run / "record.json");
  EXPECT_EQ(rec["status"], "complete");
  ASSERT_EQ(rec["resumes"].size(), 2u);
  EXPECT_EQ(rec["resumes"][0]["steps_done"], k);
  EXPECT_EQ(rec["resumes"][1]["steps_done"], k2);

  // Replay runs the 10 steps from the start, without stopping, and compares every line and the
  // final state.
  const CommandResult r = run_command(std::string(THAW_BINARY) + " replay " + sh_quote(run.string()), dir);
  EXPECT_EQ(r.exit_code, 0) << describe("replay", r);
  EXPECT_NE(r.out.find("identical: 10 steps"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace thaw::testing
