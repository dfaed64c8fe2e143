#pragma once
// A run folder has one owner. A training run or a sweep holds an exclusive flock(2) on
// DIR/.thaw-lock from before it reads or writes the folder until it exits; the kernel releases it
// when the process dies, however it dies, so a kill -9 leaves no stale lock. A second process on a
// held folder fails at once, naming the folder and the holder's process id (written into the lock
// file). The lock file itself stays: removing it would race with a process about to lock it.
#include <filesystem>
#include <string_view>
#include <sys/types.h>

namespace thaw {

inline constexpr const char* kRunLockFile = ".thaw-lock";

class RunFolderLock {
 public:
  // Creates `dir` if it does not exist. A folder held by another process is a UserError:
  // "<flag>: <dir> is in use by another thaw process (pid N); ...".
  RunFolderLock(const std::filesystem::path& dir, std::string_view flag);
  ~RunFolderLock();
  RunFolderLock(RunFolderLock&& o) noexcept;
  RunFolderLock& operator=(RunFolderLock&&) = delete;
  RunFolderLock(const RunFolderLock&) = delete;
  RunFolderLock& operator=(const RunFolderLock&) = delete;

 private:
  int fd_ = -1;
};

// Whether a live process holds dir's lock: its pid (-1 where it has not written it yet), or 0 when
// none does (no lock file, or one whose holder has exited).
pid_t run_folder_holder(const std::filesystem::path& dir);

}  // namespace thaw
