// The GPU step's feature cache (engine/gpu/gpu_feature_cache.h): three epochs of training frozen
// through mixed_5e, with the cache and without, give the same record lines (loss, parameter
// checksum, gradient norm) and the same final weights, in fp32 and bf16, and the later epochs did
// read from the cache. This is where cuDNN's engines are checked to compute each sample of a
// batch independently of the others.
#include <gtest/gtest.h>

#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "engine/model/state_hash.h"
#include "engine/train/trainer.h"
#include "graph/inception_v4.h"
#include "tests/cuda/cuda_test_util.h"
#include "tests/support/synthetic_dataset.h"

namespace thaw {
namespace {

using GpuFeatureCacheTest = cuda_test::CudaTest;

struct Lines final : StepObserver {
  std::vector<std::string> lines;
  uint64_t chain = 0;
  bool on_step(const StepInfo& info) override {
    chain = param_checksum(chain, info.params, DigestRule::blocked);
    lines.push_back(double_bits_hex(info.loss) + " " + hex64(chain) + " " + double_bits_hex(grad_norm(info.params, DigestRule::blocked)));
    return true;
  }
};

struct Run {
  std::vector<std::string> lines;
  std::string weights, log;
};

Run train_on_gpu(bool cache, Numerics numerics, ChannelsLast scope) {
  const Graph g = build_inception_v4(75, 3);
  ModelState<float> state = ModelState<float>::random(g, 5);
  const testkit::SyntheticDataset data(21, 8);
  TrainConfig cfg;
  cfg.batch_size = 4;
  cfg.epochs = 3;
  cfg.seed = 3;
  cfg.freeze_block = g.find_block("mixed_5e");
  cfg.schedule.base_lr = 1e-3;
  cfg.cuda = true;
  cfg.numerics = numerics;
  cfg.cache_train = cache;
  cfg.gpu_channels_last = scope;
  Lines lines;
  std::ostringstream log;
  train(g, state, data, nullptr, cfg, log, &lines);
  return {lines.lines, state_sha256(g, state), log.str()};
}

void check(Numerics numerics, const std::string& tag, ChannelsLast scope = ChannelsLast::off) {
  const Run plain = train_on_gpu(false, numerics, scope);
  const Run cached = train_on_gpu(true, numerics, scope);
  ASSERT_EQ(plain.lines.size(), 6u) << tag;
  EXPECT_EQ(cached.lines, plain.lines) << tag;
  EXPECT_EQ(cached.weights, plain.weights) << tag;
  // Epochs 2 and 3 read every sample back: 8 computed, 16 reused.
  EXPECT_NE(cached.log.find("8 samples computed, 16 reused"), std::string::npos) << tag << ": " << cached.log;
  EXPECT_EQ(plain.log.find("GPU feature cache"), std::string::npos) << tag;
}

TEST_F(GpuFeatureCacheTest, SameBitsWithTheCacheFp32) { check(Numerics::Fp32, "fp32"); }
TEST_F(GpuFeatureCacheTest, SameBitsWithTheCacheBf16) { check(Numerics::Bf16, "bf16"); }
// The boundary's rows kept as the executor stores them (channels-last) and read back the same way.
TEST_F(GpuFeatureCacheTest, SameBitsWithTheCacheAllChannelsLast) {
  check(Numerics::Bf16, "bf16 all channels-last", ChannelsLast::all);
}

}  // namespace
}  // namespace thaw
