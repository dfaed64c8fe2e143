// Replays every input kept under tests/io/data/fuzz/<target>/ (hand-made hostile files, and what
// scripts/fuzz found) through the same entry points the fuzzers use (fuzz/fuzz_entries.h): each
// must parse or be refused with a UserError; any other exception fails the test, a crash fails
// the run.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "fuzz/fuzz_entries.h"
#include "tests/io/io_test_support.h"

namespace thaw {
namespace {

namespace fs = std::filesystem;

size_t replay(const std::string& target, const std::function<void(std::string_view)>& entry) {
  const fs::path dir = fs::path(THAW_SOURCE_DIR) / "tests/io/data/fuzz" / target;
  std::vector<fs::path> files;
  for (const fs::directory_entry& e : fs::directory_iterator(dir)) {
    if (e.is_regular_file()) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const fs::path& f : files) {
    try {
      entry(testing::slurp(f));
    } catch (const std::exception& e) {
      ADD_FAILURE() << f.string() << ": " << e.what();
    }
  }
  return files.size();
}

TEST(FuzzRegression, SafetensorsInputs) { EXPECT_GE(replay("safetensors", fuzz::safetensors), 5u); }
TEST(FuzzRegression, CsvInputs) { EXPECT_GE(replay("csv", fuzz::csv), 4u); }
TEST(FuzzRegression, ImageInputs) { EXPECT_GE(replay("image", fuzz::image), 5u); }
TEST(FuzzRegression, NpyInputs) { EXPECT_GE(replay("npy", fuzz::npy), 4u); }

}  // namespace
}  // namespace thaw
