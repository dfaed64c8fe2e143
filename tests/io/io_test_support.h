#pragma once
// Helpers shared by the io tests: a private scratch directory per test, and fixtures generated
// by Debian's Python (numpy, torch) when it is installed.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "core/error.h"
#include "io/file_bytes.h"
#include "tests/support/temp_dir.h"
#include "tests/support/user_error.h"

namespace thaw::testing {

// The tests' scratch folder (tests/support/temp_dir.h); `dir / "name"` is a path inside it.
class ScratchDir : public testkit::TempDir {
 public:
  ScratchDir() : TempDir("thaw-io") {}
  std::filesystem::path operator/(const std::string& name) const { return path() / name; }
};

inline std::string slurp(const std::filesystem::path& p) { return read_file_or_empty(p); }

inline void spit(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

using testkit::user_error_of;

constexpr const char* kDebianPython = "/usr/bin/python3";

// Why Debian's Python cannot make fixtures here (nullopt when it can). `modules` is a
// comma-separated import list such as "numpy" or "numpy, torch".
inline std::optional<std::string> python_missing(const std::string& modules) {
  if (!std::filesystem::exists(kDebianPython)) return cat_str(kDebianPython, " not found");
  const std::string cmd = cat_str(kDebianPython, " -c 'import ", modules, "' >/dev/null 2>&1");
  if (std::system(cmd.c_str()) != 0) return cat_str(kDebianPython, " cannot import ", modules);
  return std::nullopt;
}

// Runs `script` with Debian's Python in `dir` (so relative paths land there); returns the exit code.
inline int run_python(const ScratchDir& dir, const std::string& script) {
  const auto file = dir / "fixture.py";
  spit(file, script);
  const std::string cmd = cat_str("cd '", dir.path().string(), "' && ", kDebianPython, " '", file.string(), "'");
  return std::system(cmd.c_str());
}

}  // namespace thaw::testing

// Skips the test, with the reason, when Debian's Python lacks `modules`.
#define THAW_REQUIRE_PYTHON(modules)                                                       \
  do {                                                                                     \
    if (const auto why = ::thaw::testing::python_missing(modules)) GTEST_SKIP() << *why;   \
  } while (0)
