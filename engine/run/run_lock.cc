#include "engine/run/run_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "core/error.h"

namespace thaw {
namespace {

pid_t read_pid(int fd) {
  char buf[32] = {};
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return 0;
  return static_cast<pid_t>(std::strtol(buf, nullptr, 10));
}

}  // namespace

RunFolderLock::RunFolderLock(const std::filesystem::path& dir, std::string_view flag) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) fail_user(flag, ": cannot create ", dir.string(), ": ", ec.message());
  const std::filesystem::path file = dir / kRunLockFile;
  fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) fail_user(flag, ": cannot open ", file.string(), ": ", std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    const pid_t holder = read_pid(fd_);
    ::close(fd_);
    fd_ = -1;
    if (err != EWOULDBLOCK) fail_user(flag, ": cannot lock ", file.string(), ": ", std::strerror(err));
    fail_user(flag, ": ", dir.string(), " is in use by another thaw process",
              holder > 0 ? cat_str(" (pid ", holder, ")") : std::string(),
              "; wait for it to finish or choose another folder");
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  // The pid is for the message above only; a failed write leaves the lock as good.
  if (::ftruncate(fd_, 0) == 0) (void)!::pwrite(fd_, pid.data(), pid.size(), 0);
}

RunFolderLock::~RunFolderLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the flock
}

RunFolderLock::RunFolderLock(RunFolderLock&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}

pid_t run_folder_holder(const std::filesystem::path& dir) {
  const std::filesystem::path file = dir / kRunLockFile;
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  pid_t holder = 0;
  if (::flock(fd, LOCK_SH | LOCK_NB) == 0) {
    ::flock(fd, LOCK_UN);
  } else if (errno == EWOULDBLOCK) {
    holder = read_pid(fd);
    if (holder <= 0) holder = -1;  // held, by a process that has not written its pid yet
  }
  ::close(fd);
  return holder;
}

}  // namespace thaw
