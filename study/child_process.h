#pragma once
// Runs another thaw command as a child process (a sweep's arms run `thaw train`, each in its own
// process: one arm's crash or exhausted memory cannot take the others with it, and the kernel
// measures each arm's peak memory on its own). The child's stdout and stderr are copied, as they
// come, to this process's stderr and to a log file.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace thaw {

struct ChildResult {
  int exit_code = -1;    // the exit status; -1 when killed by a signal
  int signal = 0;        // the signal that ended it, or 0
  int64_t peak_rss_bytes = 0;  // the child's maximum resident set size (getrusage's ru_maxrss)
  double seconds = 0;    // wall time
  std::string last_error;  // the last line starting with "thaw: error" or "thaw: internal error"
};

// argv[0] is the program (use this_executable()). A child that cannot start is a UserError.
ChildResult run_child(const std::vector<std::string>& argv, const std::filesystem::path& log_file, bool echo = true);

// /proc/self/exe, resolved.
std::filesystem::path this_executable();

// scripts/<name> of the source tree this binary was built in (the build folder's parent, or the
// binary's own folder), or an empty path where there is none.
std::filesystem::path script_of_this_build(const std::string& name);

}  // namespace thaw
