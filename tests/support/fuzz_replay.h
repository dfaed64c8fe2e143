#pragma once
// Replays every input kept under tests/io/data/fuzz/<target>/ (hand-made hostile files, and what
// scripts/fuzz found) through a fuzz entry (fuzz/*_entries.h): each must parse or be refused with a
// UserError; any other exception is a test failure, a crash fails the run.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

namespace thaw::testkit {

// How many inputs were replayed.
inline size_t replay_fuzz_inputs(const std::string& target, const std::function<void(std::string_view)>& entry) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(THAW_SOURCE_DIR) / "tests/io/data/fuzz" / target;
  std::vector<fs::path> files;
  for (const fs::directory_entry& e : fs::directory_iterator(dir)) {
    if (e.is_regular_file()) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const fs::path& f : files) {
    std::ifstream in(f, std::ios::binary);
    const std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    try {
      entry(bytes);
    } catch (const std::exception& e) {
      ADD_FAILURE() << f.string() << ": " << e.what();
    }
  }
  return files.size();
}

}  // namespace thaw::testkit
