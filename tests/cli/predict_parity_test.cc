// `thaw predict` against an independent PyTorch Inception v4 (scripts/torch_inception_v4.py) on a
// random checkpoint whose batch-norm statistics are far from trivial, at the smallest input size
// and at the canonical 299.
#include <algorithm>
#include <cmath>
#include <string>

#include <gtest/gtest.h>

#include "io/npy.h"
#include "tests/cli/cli_harness.h"

namespace thaw::testing {
namespace {

constexpr int kClasses = 7;
constexpr int kBatch = 2;

// |thaw - ref| <= kRelTol * max(1, max_i |ref_i|) for every logit. The reference runs in float64;
// a float32 forward of this network lands within ~4e-7 of it (measured with torch's float32 path),
// so 1e-4 leaves room for any summation order while a real mistake is far outside it: BN eps 1e-5
// instead of 1e-3 moves the logits by 3e-3 (75) and 2e-2 (299) of that scale, avg-pool counting
// the padding by 8e-2, one running mean shifted by 0.01 by 5e-4.
constexpr double kRelTol = 1e-4;

class PredictParity : public ::testing::TestWithParam<int> {};

TEST_P(PredictParity, LogitsMatchTorchReference) {
  if (!thaw_binary_exists()) GTEST_SKIP() << "thaw binary not built: " << THAW_BINARY;
  if (!python_has_torch()) GTEST_SKIP() << kPython << " cannot import torch and numpy";
  const int size = GetParam();
  ScratchDir dir;
  const std::string weights = dir / "weights.safetensors";
  const std::string input = dir / "input.npy";
  const std::string ours = dir / "thaw_logits.npy";
  const std::string ref = dir / "torch_logits.npy";

  ASSERT_NO_FATAL_FAILURE(run_reference(
      "make-weights --classes " + std::to_string(kClasses) + " --seed 11 --out " + sh_quote(weights),
      dir));
  ASSERT_NO_FATAL_FAILURE(run_reference("make-input --n " + std::to_string(kBatch) + " --size " +
                                            std::to_string(size) + " --seed " +
                                            std::to_string(100 + size) + " --out " +
                                            sh_quote(input),
                                        dir));

  const std::string cmd = sh_quote(THAW_BINARY) + " predict --weights " + sh_quote(weights) +
                          " --classes " + std::to_string(kClasses) + " --input " +
                          sh_quote(input) + " --output " + sh_quote(ours) + " --device cpu";
  const CommandResult r = run_command(cmd, dir);
  ASSERT_EQ(r.exit_code, 0) << describe(cmd, r);

  ASSERT_NO_FATAL_FAILURE(run_reference("predict --double --weights " + sh_quote(weights) +
                                            " --input " + sh_quote(input) + " --output " +
                                            sh_quote(ref),
                                        dir));

  // Read with io/npy: the reference file is numpy's own, so a reader bug could not hide there.
  const thaw::NpyArray a_file = thaw::read_npy(ours);
  const thaw::NpyArray b_file = thaw::read_npy(ref);
  const thaw::Shape want_shape = {kBatch, kClasses};
  ASSERT_EQ(b_file.shape, want_shape) << "reference output";
  ASSERT_EQ(a_file.shape, want_shape) << ours << " has the wrong shape";
  ASSERT_EQ(a_file.dtype, thaw::DType::F32) << ours << ": logits should be float32";
  const std::vector<double> a = a_file.to_double();
  const std::vector<double> b = b_file.to_double();

  double ref_max = 0.0;
  for (double v : b) ref_max = std::max(ref_max, std::abs(v));
  const double tol = kRelTol * std::max(1.0, ref_max);

  // The test's own power: the two images must give logits that differ by far more than the
  // tolerance, or a thaw that ignored its input (or the batch index) would pass.
  double between_images = 0.0;
  for (int k = 0; k < kClasses; ++k) {
    between_images = std::max(between_images, std::abs(b[k] - b[kClasses + k]));
  }
  ASSERT_GT(between_images, 100 * tol) << "reference logits hardly depend on the image";

  double worst = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double diff = std::abs(a[i] - b[i]);
    worst = std::max(worst, diff);
    EXPECT_LE(diff, tol) << "logit [" << i / kClasses << ", " << i % kClasses << "] at input "
                         << size << ": thaw " << a[i] << ", torch (float64) " << b[i];
  }
  RecordProperty("max_abs_diff", std::to_string(worst));
  RecordProperty("tolerance", std::to_string(tol));
}

INSTANTIATE_TEST_SUITE_P(InputSizes, PredictParity, ::testing::Values(75, 299),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return "size" + std::to_string(info.param);
                         });

}  // namespace
}  // namespace thaw::testing
