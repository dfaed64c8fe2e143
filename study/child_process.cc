#include "study/child_process.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>

#include "core/error.h"

extern char** environ;

namespace thaw {

namespace {

// Keeps the last line that reports an error, across reads that split lines anywhere.
class ErrorLineTracker {
 public:
  void feed(const char* p, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      const char c = p[i];
      if (c == '\n' || c == '\r') {
        take();
      } else {
        line_ += c;
      }
    }
  }
  std::string finish() {
    take();
    return last_;
  }

 private:
  void take() {
    if (line_.rfind("thaw: error", 0) == 0 || line_.rfind("thaw: internal error", 0) == 0) last_ = line_;
    line_.clear();
  }
  std::string line_, last_;
};

}  // namespace

std::filesystem::path this_executable() {
  std::error_code ec;
  const std::filesystem::path p = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) fail_internal("cannot resolve /proc/self/exe: ", ec.message());
  return p;
}

ChildResult run_child(const std::vector<std::string>& argv, const std::filesystem::path& log_file, bool echo) {
  THAW_CHECK(!argv.empty(), "run_child: no program");
  std::ofstream log(log_file, std::ios::binary | std::ios::trunc);
  if (!log) fail_user("cannot write ", log_file.string());
  int fds[2];
  if (::pipe(fds) != 0) fail_internal("pipe: ", std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  posix_spawn_file_actions_addclose(&actions, fds[1]);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const auto t0 = std::chrono::steady_clock::now();
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, argv[0].c_str(), &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    fail_user("cannot start ", argv[0], ": ", std::strerror(rc));
  }
  ErrorLineTracker errors;
  char buf[4096];
  while (true) {
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    log.write(buf, n);
    log.flush();
    if (echo) std::cerr.write(buf, n).flush();
    errors.feed(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  struct rusage usage {};
  while (::wait4(pid, &status, 0, &usage) < 0) {
    if (errno != EINTR) fail_internal("wait4: ", std::strerror(errno));
  }
  ChildResult r;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.peak_rss_bytes = static_cast<int64_t>(usage.ru_maxrss) * 1024;  // Linux reports kilobytes
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  r.last_error = errors.finish();
  return r;
}

std::filesystem::path script_of_this_build(const std::string& name) {
  const std::filesystem::path exe = this_executable();
  for (const std::filesystem::path& root : {exe.parent_path().parent_path(), exe.parent_path()}) {
    const std::filesystem::path p = root / "scripts" / name;
    std::error_code ec;
    if (std::filesystem::exists(p, ec)) return p;
  }
  return {};
}

}  // namespace thaw
