// The run's list of skipped samples (engine/data/skip_log.h): each sample once, rewritten whole; a
// resumed run keeps what its first part listed, even when the resumed part never meets those
// samples again, and does not list a sample twice when it does.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/data/skip_log.h"
#include "io/file_bytes.h"

namespace thaw {
namespace {

namespace fs = std::filesystem;

class SkipLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string t = (fs::temp_directory_path() / "thaw-skiplog-XXXXXX").string();
    ASSERT_NE(mkdtemp(t.data()), nullptr);
    dir_ = t;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path dir_;
};

TEST_F(SkipLogTest, EachSampleOnceAndSaidOnTheLog) {
  std::ostringstream said;
  SkipLog log(dir_ / "skipped.txt", &said);
  log.add("train", 3, "data/a/3.png: corrupt");
  log.add("train", 3, "data/a/3.png: corrupt");  // met again in the next epoch
  log.add("val", 3, "data/b/gone.jpg: cannot read");
  EXPECT_EQ(read_file_or_empty(dir_ / "skipped.txt"),
            "train sample 3: data/a/3.png: corrupt\nval sample 3: data/b/gone.jpg: cannot read\n");
  EXPECT_EQ(said.str(), "thaw: skipped train sample 3: data/a/3.png: corrupt\n"
                        "thaw: skipped val sample 3: data/b/gone.jpg: cannot read\n");
}

TEST_F(SkipLogTest, AResumedRunKeepsWhatItsFirstPartSkipped) {
  {
    SkipLog before(dir_ / "skipped.txt", nullptr);
    before.add("train", 17, "data/x: corrupt: sample 2 of 9");  // a message with ':' and " sample " in it
    before.add("val", 0, "data/gone.jpg: cannot read");
  }
  std::ostringstream said;
  SkipLog after(dir_ / "skipped.txt", &said, /*resumed=*/true);
  EXPECT_EQ(after.lines().size(), 2u);
  after.add("train", 17, "data/x: corrupt: sample 2 of 9");  // met again: not listed twice, not said again
  after.add("train", 4, "data/y: corrupt");                 // a new one after the resume
  EXPECT_EQ(read_file_or_empty(dir_ / "skipped.txt"),
            "train sample 17: data/x: corrupt: sample 2 of 9\nval sample 0: data/gone.jpg: cannot read\n"
            "train sample 4: data/y: corrupt\n");
  EXPECT_EQ(said.str(), "thaw: skipped train sample 4: data/y: corrupt\n");

  // A run started afresh (not resumed) in a folder with an old list starts its own.
  SkipLog fresh(dir_ / "skipped.txt", nullptr);
  fresh.add("train", 1, "data/z: corrupt");
  EXPECT_EQ(read_file_or_empty(dir_ / "skipped.txt"), "train sample 1: data/z: corrupt\n");
}

}  // namespace
}  // namespace thaw
