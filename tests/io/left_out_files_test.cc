// Files a folder of class folders holds that are not named as images: counted and named in one
// warning line (the first five, then how many more); hidden files and folders, and anything but a
// folder (a CSV, IDX data), give none.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "io/left_out_files.h"
#include "tests/io/io_test_support.h"

namespace thaw {
namespace {

namespace fs = std::filesystem;
using testing::ScratchDir;
using testing::spit;

TEST(LeftOutFiles, CountedAndNamedInOneLine) {
  ScratchDir dir;
  fs::create_directories(dir / "d/a/deeper");
  fs::create_directories(dir / "d/b/.cache");
  spit(dir / "d/a/1.jpg", "x");
  spit(dir / "d/a/2.PNG", "x");
  spit(dir / "d/a/scan.dcm", "x");  // read (io/dicom_decode.cc), so not left out
  spit(dir / "d/a/scan.nii", "x");
  spit(dir / "d/a/deeper/slide.heic", "x");
  spit(dir / "d/b/.hidden.tif", "x");
  spit(dir / "d/b/.cache/x.tif", "x");
  spit(dir / "d/readme.txt", "x");  // beside the class folders, not in one
  const std::vector<std::string> files = left_out_files((dir / "d").string());
  EXPECT_THAT(files, ::testing::ElementsAre((dir / "d/a/deeper/slide.heic").string(), (dir / "d/a/scan.nii").string()));
  std::ostringstream log;
  warn_left_out_files((dir / "d").string(), log);
  EXPECT_EQ(log.str(), "thaw: warning: 2 files in the class folders of " + (dir / "d").string() +
                           " are not .jpg, .jpeg, .png, .tif, .tiff, .dcm or .dicom and left out: " + files[0] + ", " + files[1] + "\n");
  for (int i = 0; i < 6; ++i) spit(dir / ("d/b/n" + std::to_string(i) + ".heic"), "x");
  log.str("");
  warn_left_out_files((dir / "d").string(), log);
  const std::string many = log.str();
  EXPECT_THAT(many, ::testing::HasSubstr("thaw: warning: 8 files"));
  EXPECT_THAT(many, ::testing::EndsWith(" and 3 more\n"));
  EXPECT_EQ(std::count(many.begin(), many.end(), '\n'), 1);
  log.str("");
  warn_left_out_files((dir / "d/a/1.jpg").string(), log);
  warn_left_out_files("fashion-mnist", log);
  EXPECT_EQ(log.str(), "");
}

}  // namespace
}  // namespace thaw
