#pragma once
// A fresh folder for one test, named after it (gtest's suite and test name) under gtest's
// temporary folder, removed with everything in it when the test ends. The one scratch folder of
// every test binary (tests/io, tests/engine, tests/study, tests/cli).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace thaw::testkit {

class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "thaw") {
    std::string name(prefix);
    if (const auto* info = ::testing::UnitTest::GetInstance()->current_test_info()) {
      name += std::string("-") + info->test_suite_name() + "-" + info->name();
    }
    for (char& c : name) {
      if (c == '/') c = '_';  // parameterised tests' names hold slashes
    }
    std::string tmpl = (std::filesystem::path(::testing::TempDir()) / (name + "-XXXXXX")).string();
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (mkdtemp(buf.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + tmpl);
    path_ = buf.data();
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // Entries in the folder, for checking that no temporary file was left behind.
  size_t file_count() const {
    size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(path_)) ++n;
    return n;
  }

 private:
  std::filesystem::path path_;
};

}  // namespace thaw::testkit
