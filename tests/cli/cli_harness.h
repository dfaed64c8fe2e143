#pragma once
// What the CLI tests share: a scratch folder per test, running a command with its exit code and
// output captured, and the probes that decide whether a test can run at all (the built `thaw`,
// Debian's python with torch).
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "io/file_bytes.h"
#include "tests/support/temp_dir.h"

namespace thaw::testing {

inline constexpr const char* kPython = "/usr/bin/python3";

inline std::string reference_script() {
  return std::string(THAW_SOURCE_DIR) + "/scripts/torch_inception_v4.py";
}

// Single-quoted for sh: paths here come from mkdtemp and the source tree, but a quote costs nothing.
inline std::string sh_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

inline std::string read_text(const std::filesystem::path& p) { return read_file_or_empty(p); }

// Lines of a command's output ("one line" is the error rule's test).
inline size_t count_lines(const std::string& s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '\n')); }

// Idle OpenMP threads sleep instead of spinning: on a loaded 2-core machine spinning takes the cores
// from the loader's workers (and costs a test most of its time). Put before a command.
inline constexpr const char* kPassive = "OMP_WAIT_POLICY=passive ";

// The tests' scratch folder (tests/support/temp_dir.h); `dir / "name"` is a path inside it, as a
// string for building command lines.
class ScratchDir : public testkit::TempDir {
 public:
  ScratchDir() : TempDir("thaw-cli") {}
  std::string operator/(const std::string& name) const { return (path() / name).string(); }
};

struct CommandResult {
  int exit_code = -1;  // the process's exit status; 128 + signal when killed by one
  std::string out;
  std::string err;
};

// Runs `command` through sh with stdout and stderr sent to files in `dir` (a pipe per stream
// could deadlock on a chatty child; files cannot).
inline CommandResult run_command(const std::string& command, const ScratchDir& dir) {
  const std::string out_path = dir / "cmd.stdout";
  const std::string err_path = dir / "cmd.stderr";
  const std::string full = command + " >" + sh_quote(out_path) + " 2>" + sh_quote(err_path);
  const int status = std::system(full.c_str());
  CommandResult r;
  if (status == -1) {
    r.exit_code = -1;
  } else if (WIFEXITED(status)) {
    r.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    r.exit_code = 128 + WTERMSIG(status);
  }
  r.out = read_text(out_path);
  r.err = read_text(err_path);
  return r;
}

inline std::string describe(const std::string& command, const CommandResult& r) {
  return "command: " + command + "\nexit code: " + std::to_string(r.exit_code) +
         "\nstdout:\n" + r.out + "\nstderr:\n" + r.err;
}

inline bool thaw_binary_exists() { return std::filesystem::exists(THAW_BINARY); }

// Probed per call rather than cached: no function-local statics (project rule); it costs ~1 s.
inline bool python_has_torch() {
  const std::string cmd =
      std::string(kPython) + " -c 'import torch, numpy' >/dev/null 2>&1";
  const int status = std::system(cmd.c_str());
  return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// Runs the reference script; a failure there is the harness's fault, not thaw's, so it says so.
inline void run_reference(const std::string& args, const ScratchDir& dir) {
  const std::string cmd = std::string(kPython) + " " + sh_quote(reference_script()) + " " + args;
  const CommandResult r = run_command(cmd, dir);
  ASSERT_EQ(r.exit_code, 0) << "the PyTorch reference script failed\n" << describe(cmd, r);
}

// The text with trailing whitespace removed; a "one line" message has no newline left in it.
inline std::string trim_right(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// One line on stderr, exit code 2, naming `names`.
inline void expect_refusal(const CommandResult& r, const std::string& what, const std::vector<std::string>& names) {
  EXPECT_EQ(r.exit_code, 2) << describe(what, r);
  const std::string err = trim_right(r.err);
  EXPECT_EQ(err.find('\n'), std::string::npos) << what << ": more than one line:\n" << err;
  for (const std::string& n : names) EXPECT_NE(err.find(n), std::string::npos) << what << ": " << err;
}

}  // namespace thaw::testing
