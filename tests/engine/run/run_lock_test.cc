// One owner per run folder: the lock is exclusive between open files (so between processes, and
// within this test process too), names its holder, and is gone once its holder closes or dies.
#include "engine/run/run_lock.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"
#include "tests/support/user_error.h"

namespace thaw {
namespace {

TEST(RunFolderLock, IsExclusiveNamesItsHolderAndIsFreeOnceReleased) {
  testkit::TempDir dir("thaw-lock");
  const auto run = dir.path() / "run";  // created by the lock
  EXPECT_EQ(run_folder_holder(run), 0);
  {
    RunFolderLock held(run, "--out");
    EXPECT_EQ(run_folder_holder(run), ::getpid());
    const std::string msg = testkit::user_error_of([&] { RunFolderLock second(run, "--out"); });
    EXPECT_EQ(msg, "--out: " + run.string() + " is in use by another thaw process (pid " + std::to_string(::getpid()) +
                       "); wait for it to finish or choose another folder");
    RunFolderLock moved(std::move(held));  // still held
    EXPECT_EQ(run_folder_holder(run), ::getpid());
  }
  EXPECT_EQ(run_folder_holder(run), 0);
  RunFolderLock again(run, "--resume");
}

TEST(RunFolderLock, AHolderKilledWithSigkillLeavesNoLock) {
  testkit::TempDir dir("thaw-lock");
  const auto run = dir.path() / "run";
  const pid_t child = ::fork();
  if (child == 0) {
    RunFolderLock lock(run, "--out");
    ::pause();
    ::_exit(0);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (run_folder_holder(run) != child && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(run_folder_holder(run), child);
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_EQ(run_folder_holder(run), 0);
  RunFolderLock mine(run, "--out");
  EXPECT_EQ(run_folder_holder(run), ::getpid());
}

}  // namespace
}  // namespace thaw
