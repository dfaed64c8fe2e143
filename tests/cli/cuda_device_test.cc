// `--device cuda` where no GPU answers (or in a build without CUDA): exit 2 and one line that names
// the flag and the reason, for both commands that take it. On a machine with a GPU this skips.
#include <filesystem>
#include <string>
#include <utility>

#include <gtest/gtest.h>

#include "tests/cli/cli_harness.h"
#if THAW_HAVE_CUDA
#include "kernels/cuda/device_query.h"
#endif

namespace thaw::testing {
namespace {

void expect_no_device_error(const std::string& args) {
#if THAW_HAVE_CUDA
  std::string why;
  if (cuda::device_count(&why) > 0) GTEST_SKIP() << "a CUDA device is present; the GPU path is tested in tests/cuda";
  const std::string expected = "thaw: error: --device cuda: no usable CUDA device (";
#else
  const std::string expected = "thaw: error: --device cuda: this thaw was built without CUDA";
#endif
  const ScratchDir dir;
  const std::string cmd = sh_quote(THAW_BINARY) + " " + args;
  const CommandResult r = run_command(cmd, dir);
  EXPECT_EQ(r.exit_code, 2) << describe(cmd, r);
  const std::string line = trim_right(r.err);
  EXPECT_EQ(line.rfind(expected, 0), 0u) << describe(cmd, r);
  EXPECT_EQ(line.find('\n'), std::string::npos) << describe(cmd, r);
}

TEST(CudaDevice, BenchWithoutADeviceIsAUserError) {
  expect_no_device_error("bench --device cuda --batch-size 1 --input-size 75 --steps 1");
}

TEST(CudaDevice, PredictWithoutADeviceIsAUserError) {
  // Checked before any file is read: the paths need not exist.
  expect_no_device_error("predict --device cuda --weights missing.safetensors --input missing.npy --output out.npy");
}

TEST(CudaDevice, EvalWithoutADeviceIsAUserError) {
  // Checked before the weights or the data are opened: neither needs to exist.
  expect_no_device_error("eval --device cuda --weights missing.safetensors --data missing-data");
}

TEST(CudaDevice, TrainWithoutADeviceIsAUserError) {
  // Checked before the data is opened or the run folder made: neither needs to exist.
  expect_no_device_error("train --device cuda --data missing-data --out run --input-size 75 --max-steps 1");
}

TEST(CudaDevice, TrainUnknownDeviceNamesTheFlag) {
  const ScratchDir dir;
  const std::string cmd = sh_quote(THAW_BINARY) + " train --device tpu --data missing-data --out run";
  const CommandResult r = run_command(cmd, dir);
  EXPECT_EQ(r.exit_code, 2) << describe(cmd, r);
  EXPECT_EQ(trim_right(r.err), "thaw: error: --device: expected cpu or cuda, got 'tpu'") << describe(cmd, r);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "run")) << describe(cmd, r);
}

TEST(CudaDevice, UnknownDeviceNamesTheFlag) {
  const ScratchDir dir;
  const std::string cmd = sh_quote(THAW_BINARY) + " bench --device tpu --steps 1";
  const CommandResult r = run_command(cmd, dir);
  EXPECT_EQ(r.exit_code, 2) << describe(cmd, r);
  EXPECT_EQ(trim_right(r.err), "thaw: error: --device: expected cpu or cuda, got 'tpu'") << describe(cmd, r);
}

TEST(CudaDevice, BenchTf32WithoutADeviceIsAUserError) {
  expect_no_device_error("bench --device cuda --precision tf32 --batch-size 1 --input-size 75 --steps 1");
}

TEST(CudaDevice, Bf16WithoutADeviceIsAUserError) {
  expect_no_device_error("bench --device cuda --precision bf16 --batch-size 1 --input-size 75 --steps 1");
  expect_no_device_error("train --device cuda --precision bf16 --data missing-data --out run --max-steps 1");
}

TEST(CudaDevice, BenchPrecisionIsCheckedBeforeAnyWork) {
  const ScratchDir dir;
  const std::pair<const char*, const char*> cases[] = {
      {"--precision tf32", "thaw: error: --precision tf32: TF32 is a GPU tensor-core mode; give --device cuda (the "
                           "CPU computes in fp32)"},
      {"--precision fp16", "thaw: error: --precision: expected fp32, tf32 or bf16, got 'fp16'"},
      {"--precision bf16", "thaw: error: --precision bf16: the CPU has no fast bf16 arithmetic; give --emulate-bf16 "
                           "to run the GPU's bf16 rounding in fp32 (slower than fp32), or --device cuda"},
      {"--emulate-bf16", "thaw: error: --emulate-bf16: emulates --precision bf16 on the CPU; give --precision bf16 "
                         "too"},
  };
  for (const auto& [flags, expected] : cases) {
    const std::string cmd = sh_quote(THAW_BINARY) + " bench --steps 1 " + flags;
    const CommandResult r = run_command(cmd, dir);
    EXPECT_EQ(r.exit_code, 2) << describe(cmd, r);
    EXPECT_EQ(trim_right(r.err), expected) << describe(cmd, r);
  }
}

// The GPU layout switches have no CPU meaning: refused by name on the CPU, before any work.
TEST(CudaDevice, GpuLayoutFlagsAreRefusedOnTheCpu) {
  const ScratchDir dir;
  const std::pair<const char*, const char*> cases[] = {
      {"--channels-last", "thaw: error: --channels-last: only with --device cuda"},
      {"--channels-last=all", "thaw: error: --channels-last: only with --device cuda"},
      {"--channels-last=front --device cuda --channels-last=sideways",
       "thaw: error: --channels-last: expected off, front or all, got 'sideways'"},
      {"--fuse-epilogue", "thaw: error: --fuse-epilogue: only with --device cuda"},
      {"--cuda-graph", "thaw: error: --cuda-graph: only with --device cuda"},
  };
  for (const auto& [flags, expected] : cases) {
    const std::string cmd = sh_quote(THAW_BINARY) + " bench --steps 1 " + flags;
    const CommandResult r = run_command(cmd, dir);
    EXPECT_EQ(r.exit_code, 2) << describe(cmd, r);
    EXPECT_EQ(trim_right(r.err), expected) << describe(cmd, r);
  }
  expect_no_device_error("bench --device cuda --fuse-epilogue --channels-last --batch-size 1 --input-size 75 --steps 1");
  expect_no_device_error("bench --device cuda --cuda-graph --batch-size 1 --input-size 75 --steps 1");
  expect_no_device_error("bench --device cuda --channels-last=all --batch-size 1 --input-size 75 --steps 1");
}

TEST(CudaDevice, TrainPrecisionIsCheckedBeforeAnyFile) {
  const ScratchDir dir;
  const std::pair<const char*, const char*> cases[] = {
      {"--precision tf32", "thaw: error: --precision tf32: TF32 is a GPU tensor-core mode; give --device cuda (the "
                           "CPU computes in fp32)"},
      {"--precision bf16", "thaw: error: --precision bf16: the CPU has no fast bf16 arithmetic; give --emulate-bf16 "
                           "to run the GPU's bf16 rounding in fp32 (slower than fp32), or --device cuda"},
      {"--precision bf16 --emulate-bf16 --device cuda", "thaw: error: --emulate-bf16: a CPU option (the GPU computes "
                                                        "in bf16 itself); leave it out with --device cuda"},
      {"--precision tf32 --emulate-bf16", "thaw: error: --precision tf32: TF32 is a GPU tensor-core mode; give "
                                          "--device cuda (the CPU computes in fp32)"},
  };
  for (const auto& [flags, expected] : cases) {
    const std::string cmd = sh_quote(THAW_BINARY) + " train --data missing-data --out run " + flags;
    const CommandResult r = run_command(cmd, dir);
    EXPECT_EQ(r.exit_code, 2) << describe(cmd, r);
    EXPECT_EQ(trim_right(r.err), expected) << describe(cmd, r);
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "run")) << describe(cmd, r);
  }
}

}  // namespace
}  // namespace thaw::testing
