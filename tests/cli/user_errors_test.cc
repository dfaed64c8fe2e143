// A user's mistake ends `thaw` with exit code 2 and one line on stderr that names the file or the
// flag at fault (and, for a checkpoint, the tensor and both shapes).
#include <cstdint>
#include <fstream>
#include <random>
#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "io/npy.h"
#include "tests/cli/cli_harness.h"

namespace thaw::testing {
namespace {

constexpr int kUserErrorExit = 2;

// Runs thaw with `args`, expects exit 2 and a single non-empty stderr line, and returns the line.
std::string expect_user_error(const std::string& args, const ScratchDir& dir) {
  const std::string cmd = sh_quote(THAW_BINARY) + " " + args;
  const CommandResult r = run_command(cmd, dir);
  EXPECT_EQ(r.exit_code, kUserErrorExit) << describe(cmd, r);
  const std::string line = trim_right(r.err);
  EXPECT_FALSE(line.empty()) << "no message on stderr\n" << describe(cmd, r);
  EXPECT_EQ(line.find('\n'), std::string::npos) << "more than one line\n" << describe(cmd, r);
  return line;
}

// A valid input file, so that the only thing wrong in a predict call is the checkpoint.
std::string write_input(const ScratchDir& dir) {
  const std::string path = dir / "input.npy";
  const std::vector<float> pixels(3 * 75 * 75, 0.25f);
  thaw::write_npy(path, thaw::Shape{1, 3, 75, 75}, std::span<const float>(pixels));
  return path;
}

std::string predict_args(const std::string& weights, const std::string& input,
                         const ScratchDir& dir) {
  return "predict --weights " + sh_quote(weights) + " --classes 7 --input " + sh_quote(input) +
         " --output " + sh_quote(dir / "out.npy") + " --device cpu";
}

// Dimensions printed in any of the usual ways: [32, 3, 3, 3], (32,3,3,3), 32x3x3x3.
std::regex shape_pattern(const std::vector<int>& dims) {
  std::string re = "(^|[^0-9])";
  for (size_t i = 0; i < dims.size(); ++i) re += (i ? "[^0-9]{1,4}" : "") + std::to_string(dims[i]);
  return std::regex(re + "([^0-9]|$)");
}

class UserErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!thaw_binary_exists()) GTEST_SKIP() << "thaw binary not built: " << THAW_BINARY;
  }
  ScratchDir dir_;
};

TEST_F(UserErrors, MissingCheckpointNamesThePath) {
  const std::string input = write_input(dir_);
  const std::string line =
      expect_user_error(predict_args("/nonexistent.safetensors", input, dir_), dir_);
  EXPECT_NE(line.find("/nonexistent.safetensors"), std::string::npos) << line;
}

TEST_F(UserErrors, MalformedCheckpointNamesThePath) {
  const std::string input = write_input(dir_);
  const std::string weights = dir_ / "garbage.safetensors";
  {
    // Fixed-seed bytes: the same garbage every run.
    std::mt19937 gen(12345);
    std::ofstream out(weights, std::ios::binary);
    for (int i = 0; i < 4096; ++i) out.put(static_cast<char>(gen() & 0xff));
  }
  const std::string line = expect_user_error(predict_args(weights, input, dir_), dir_);
  EXPECT_NE(line.find(weights), std::string::npos) << line;
}

TEST_F(UserErrors, MisShapedTensorNamesKeyAndBothShapes) {
  if (!python_has_torch()) GTEST_SKIP() << kPython << " cannot import torch and numpy";
  const std::string input = write_input(dir_);
  const std::string good = dir_ / "good.safetensors";
  const std::string bad = dir_ / "bad.safetensors";
  ASSERT_NO_FATAL_FAILURE(
      run_reference("make-weights --classes 7 --seed 3 --out " + sh_quote(good), dir_));
  ASSERT_NO_FATAL_FAILURE(run_reference("edit-weights --weights " + sh_quote(good) +
                                            " --key features.0.conv.weight --shape 32,3,5,5"
                                            " --out " + sh_quote(bad),
                                        dir_));
  const std::string line = expect_user_error(predict_args(bad, input, dir_), dir_);
  EXPECT_NE(line.find("features.0.conv.weight"), std::string::npos) << line;
  EXPECT_TRUE(std::regex_search(line, shape_pattern({32, 3, 3, 3}))) << "expected shape: " << line;
  EXPECT_TRUE(std::regex_search(line, shape_pattern({32, 3, 5, 5}))) << "file's shape: " << line;
}

TEST_F(UserErrors, InputSizeBelowMinimumNamesTheFlag) {
  const std::string line = expect_user_error("inspect --input-size 50", dir_);
  EXPECT_NE(line.find("input-size"), std::string::npos) << line;
  EXPECT_NE(line.find("75"), std::string::npos) << "should say the minimum: " << line;
}

TEST_F(UserErrors, UnknownFreezeBlockNamesTheFlagAndValue) {
  const std::string line = expect_user_error("inspect --freeze-through mixed_9z", dir_);
  EXPECT_NE(line.find("freeze-through"), std::string::npos) << line;
  EXPECT_NE(line.find("mixed_9z"), std::string::npos) << line;
}

}  // namespace
}  // namespace thaw::testing
