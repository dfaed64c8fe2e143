// `thaw sweep` on a user's folder of class folders, the mistakes a new user makes: each is one line
// naming the data or the file and what was expected, exit 2, before any arm trains or the sweep
// folder is made. The images only need to start as a JPEG does: no arm decodes them.
#include <gtest/gtest.h>

#include <fstream>

#include "tests/cli/cli_harness.h"

namespace thaw::testing {
namespace {

void write_fake_jpegs(const std::filesystem::path& dir, int n) {
  std::filesystem::create_directories(dir);
  for (int i = 0; i < n; ++i) std::ofstream(dir / (std::to_string(i) + ".jpg"), std::ios::binary) << "\xFF\xD8\xFF rest";
}

TEST(SweepData, AUserFolderTheSweepCannotUseIsOneLineBeforeAnyWork) {
  if (!thaw_binary_exists()) GTEST_SKIP() << "thaw binary not built: " << THAW_BINARY;
  ScratchDir dir;
  const std::filesystem::path data = dir.path() / "lesions";
  write_fake_jpegs(data / "melanoma", 10);
  write_fake_jpegs(data / "nevus", 10);
  const std::string sweep = std::string(THAW_BINARY) + " sweep --freeze-through mixed_7d --input-size 75 --epochs 1 --out " +
                            sh_quote(dir / "sweep") + " --data ";
  const std::string fractions = " --val-fraction 0.2 --test-fraction 0.2";
  const struct {
    std::string data, args, expect;
  } cases[] = {
      // A plain folder has neither split: both flags named at once, not one error after the other.
      {data.string(), "", "no validation and no test split (the sweep picks its best arm on the validation split and "
                          "reports it on the test split); give --val-fraction F and --test-fraction F"},
      {data.string(), " --val-fraction 0.2", "no test split (the sweep picks its best arm on the validation split "
                                             "and reports it on the test split); give --test-fraction F"},
      {data.string(), " --test-fraction 0.2", "no validation split (the sweep picks its best arm on the validation "
                                              "split and reports it on the test split); give --val-fraction F"},
      // 20 images less 4 for test and 4 (of 16) for validation: 12 to train on.
      {data.string(), fractions + " --batch-size 16",
       "--batch-size 16: the training split of " + data.string() + " has 12 images (after the validation and test "
       "splits), fewer than one batch; give --batch-size 12 or less"},
  };
  for (const auto& c : cases) {
    const std::string cmd = sweep + sh_quote(c.data) + c.args;
    const CommandResult r = run_command(cmd, dir);
    EXPECT_EQ(r.exit_code, 2) << describe(cmd, r);
    EXPECT_NE(r.err.find("thaw: error: --"), std::string::npos) << describe(cmd, r);
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << describe(cmd, r);
    EXPECT_EQ(count_lines(r.err), 1u) << describe(cmd, r);
    EXPECT_FALSE(std::filesystem::exists(dir / "sweep")) << describe(cmd, r);
  }

  // One class only, a file that is not an image, an empty class folder: each named.
  const std::filesystem::path one = dir.path() / "one";
  write_fake_jpegs(one / "melanoma", 10);
  std::ofstream(data / "nevus" / "notes.jpg") << "meeting notes";
  std::filesystem::create_directories(dir.path() / "empty" / "nevus");
  write_fake_jpegs(dir.path() / "empty" / "melanoma", 10);
  const struct {
    std::filesystem::path data;
    std::string expect;
  } named[] = {
      {one, "--data " + one.string() + ": 1 class ('melanoma'); expected at least 2 classes to tell apart (one "
            "sub-folder of images per class)"},
      {data, (data / "nevus" / "notes.jpg").string() + ": not a JPEG, PNG, TIFF or DICOM image (its first bytes are none of them); "
             "expected only images in " + data.string() + " (remove it, or give --on-bad-image skip"},
      {dir.path() / "empty", (dir.path() / "empty" / "nevus").string() + ": class folder holds no .jpg, .jpeg, "
                                                                         ".png, .tif, .tiff, .dcm or .dicom images"},
  };
  for (const auto& c : named) {
    const std::string cmd = sweep + sh_quote(c.data.string()) + fractions + " --batch-size 4";
    const CommandResult r = run_command(cmd, dir);
    EXPECT_EQ(r.exit_code, 2) << describe(cmd, r);
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << describe(cmd, r);
    EXPECT_EQ(count_lines(r.err), 1u) << describe(cmd, r);
    EXPECT_FALSE(std::filesystem::exists(dir / "sweep")) << describe(cmd, r);
  }

  // A file not named as an image is left out, as thaw train does, and said in one warning line
  // (Thumbs.db and notes beside the images are common; a .heic would be an image lost).
  const std::filesystem::path stray = dir.path() / "stray";
  write_fake_jpegs(stray / "a", 10);
  write_fake_jpegs(stray / "b", 10);
  std::ofstream(stray / "b" / "scan.heic") << "ftyp";
  const std::string cmd = sweep + sh_quote(stray.string()) + fractions + " --batch-size 64";
  const CommandResult r = run_command(cmd, dir);
  EXPECT_EQ(r.exit_code, 2) << describe(cmd, r);  // the batch, not the stray file
  EXPECT_NE(r.err.find("thaw: warning: 1 file in the class folders of " + stray.string() +
                       " is not .jpg, .jpeg, .png, .tif, .tiff, .dcm or .dicom and left out: " +
                           (stray / "b" / "scan.heic").string() + "\n"),
            std::string::npos)
      << describe(cmd, r);
  EXPECT_NE(r.err.find("has 12 images"), std::string::npos) << describe(cmd, r);
}

// thaw train itself: a training split smaller than one batch is the user's, not an internal error.
TEST(SweepData, TrainingDataSmallerThanOneBatchIsOneLine) {
  if (!thaw_binary_exists()) GTEST_SKIP() << "thaw binary not built: " << THAW_BINARY;
  ScratchDir dir;
  write_fake_jpegs(dir.path() / "data" / "a", 4);
  write_fake_jpegs(dir.path() / "data" / "b", 4);
  const std::string cmd = std::string(THAW_BINARY) + " train --data " + sh_quote(dir / "data") +
                          " --val-fraction 0.25 --input-size 75 --freeze-through mixed_7d --epochs 1 --out " +
                          sh_quote(dir / "run");
  const CommandResult r = run_command(cmd, dir);
  EXPECT_EQ(r.exit_code, 2) << describe(cmd, r);
  EXPECT_NE(r.err.find("thaw: error: --batch-size 32: the training data has 6 images (after --train-limit and the "
                       "held-out splits), fewer than one batch"),
            std::string::npos)
      << describe(cmd, r);
}

// thaw train itself: a folder of one class is refused before any work (--class-subset has its own check).
TEST(SweepData, TrainingOnOneClassIsOneLine) {
  if (!thaw_binary_exists()) GTEST_SKIP() << "thaw binary not built: " << THAW_BINARY;
  ScratchDir dir;
  write_fake_jpegs(dir.path() / "data" / "a", 8);
  const std::string cmd = std::string(THAW_BINARY) + " train --data " + sh_quote(dir / "data") +
                          " --val-fraction 0.25 --batch-size 2 --input-size 75 --out " +
                          sh_quote(dir / "run");
  const CommandResult r = run_command(cmd, dir);
  EXPECT_EQ(r.exit_code, 2) << describe(cmd, r);
  EXPECT_NE(r.err.find("/data: 1 class; expected at least 2 classes to tell apart"), std::string::npos)
      << describe(cmd, r);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "run"));
}

}  // namespace
}  // namespace thaw::testing
