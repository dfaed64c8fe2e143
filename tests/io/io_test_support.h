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

namespace thaw::testing {

// A fresh directory named after the running test, removed when the test ends.
class ScratchDir {
 public:
  ScratchDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            cat_str("thaw-io-", info->test_suite_name(), "-", info->name(), "-", ::getpid());
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }
  // Files in the directory, for checking that no temporary was left behind.
  size_t file_count() const {
    size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(path_)) ++n;
    return n;
  }

 private:
  std::filesystem::path path_;
};

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void spit(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// The message of the UserError that `f` throws; a test failure when it throws none.
template <typename F>
std::string user_error_of(F&& f) {
  try {
    f();
  } catch (const UserError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a UserError";
  return "";
}

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
