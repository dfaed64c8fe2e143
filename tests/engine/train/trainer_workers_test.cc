// train() through the batch loader: the final weights and every step's batch are bit-for-bit the
// same with 1, 2 and 4 loader workers; under --on-bad-image skip a bad sample is left out of its
// batch, said on the log and listed in skipped.txt; under fail it stops training with its name.
#include <omp.h>

#include <cstring>
#include <filesystem>
#include <set>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/same_bytes.h"

#include "core/error.h"
#include "engine/data/batch.h"
#include "engine/train/trainer.h"
#include "graph/inception_v4.h"
#include "tests/io/io_test_support.h"

namespace thaw {
namespace {

using ::testing::HasSubstr;

// Pixels a pure function of (sample, epoch); `bad` samples throw a UserError naming a file.
class PatternDataset final : public Dataset {
 public:
  PatternDataset(int64_t n, std::set<int64_t> bad = {}) : n_(n), bad_(std::move(bad)) {}
  int64_t size() const override { return n_; }
  int64_t num_classes() const override { return 3; }
  std::vector<std::string> class_names() const override { return {"a", "b", "c"}; }
  int32_t label(int64_t i) const override { return static_cast<int32_t>(i % 3); }
  void load(int64_t i, int64_t size, LoadMode mode, float* chw) const override {
    if (bad_.count(i)) fail_user("pattern/", i, ".png: corrupt or unsupported PNG");
    const int64_t plane = size * size;
    for (int64_t c = 0; c < 3; ++c) {
      for (int64_t k = 0; k < plane; ++k) {
        const int64_t v = (k * (i + 3) + c * 17 + mode.epoch * 5) % 97;
        chw[c * plane + k] = static_cast<float>(v) / 48.5f - 1.0f;
      }
    }
  }
  std::string describe() const override { return "pattern"; }

 private:
  int64_t n_;
  std::set<int64_t> bad_;
};

struct Steps final : StepObserver {
  std::vector<std::vector<int64_t>> batches;
  bool on_step(const StepInfo& info) override {
    batches.emplace_back(info.indices.begin(), info.indices.end());
    return true;
  }
};

TrainConfig small_config(const Graph& g, int workers) {
  TrainConfig cfg;
  cfg.batch_size = 2;
  cfg.epochs = 2;
  cfg.max_steps = 3;  // two steps in epoch 0, one in epoch 1
  cfg.seed = 7;
  cfg.freeze_block = g.find_block("mixed_7c");
  cfg.schedule.base_lr = 0.05;
  cfg.loader.workers = workers;
  return cfg;
}

// One OpenMP thread: the bits do not depend on it, and an idle team's spinning would only take the
// cores from the loader's workers on a loaded machine.
class TrainerWorkers : public ::testing::Test {
 protected:
  void SetUp() override {
    saved_ = omp_get_max_threads();
    omp_set_num_threads(1);
  }
  void TearDown() override { omp_set_num_threads(saved_); }
  int saved_ = 1;
};

TEST_F(TrainerWorkers, SameWeightsAndBatchesForOneTwoAndFourWorkers) {
  const Graph g = build_inception_v4(75, 3);
  const PatternDataset data(5);  // 2 batches per epoch, one sample left over
  const ModelState<float> start = ModelState<float>::random(g, 1);
  std::vector<Tensor<float>> first;
  std::vector<std::vector<int64_t>> first_batches;
  for (int workers : {1, 2, 4}) {
    ModelState<float> state = start;
    Steps steps;
    std::ostringstream log;
    const TrainConfig cfg = small_config(g, workers);
    const TrainSummary s = train(g, state, data, nullptr, cfg, log, &steps);
    EXPECT_EQ(s.steps, 3);
    ASSERT_EQ(steps.batches.size(), 3u);
    if (first.empty()) {
      first = state.values;
      first_batches = steps.batches;
      continue;
    }
    EXPECT_EQ(steps.batches, first_batches) << workers << " workers";
    int differing = 0;
    for (size_t t = 0; t < first.size(); ++t) {
      const Tensor<float>& a = first[t];
      const Tensor<float>& b = state.values[t];
      if (a.shape() != b.shape() || !testkit::same_bytes(a.data(), b.data(), sizeof(float) * a.numel())) ++differing;
    }
    EXPECT_EQ(differing, 0) << workers << " workers";
  }
  // Training moved the head: the comparison above is not between untouched weights.
  const int head = static_cast<int>(first.size()) - 1;
  EXPECT_NE(std::memcmp(first[head].data(), start.values[head].data(), sizeof(float) * first[head].numel()), 0);
}

TEST_F(TrainerWorkers, SkipLeavesTheBadSampleOutAndListsIt) {
  testing::ScratchDir dir;
  const Graph g = build_inception_v4(75, 3);
  const PatternDataset data(5, {4});
  TrainConfig cfg = small_config(g, 2);
  cfg.loader.on_bad_image = BadImagePolicy::Skip;
  cfg.out_dir = dir.path();
  const ModelState<float> start = ModelState<float>::random(g, 1);
  ModelState<float> state = start;
  Steps steps;
  std::ostringstream log;
  train(g, state, data, nullptr, cfg, log, &steps);
  size_t repeats = 0;
  for (const auto& b : steps.batches) {
    EXPECT_EQ(b.size(), 2u);
    EXPECT_EQ(std::count(b.begin(), b.end(), 4), 0);
    repeats += b[0] == b[1];
  }
  // Each batch that held sample 4 has its partner twice instead.
  size_t holding = 0;
  for (int64_t epoch : {0, 1}) {
    const std::vector<int64_t> order = epoch_order(5, cfg.seed, epoch);
    holding += std::count(order.begin(), order.begin() + (epoch == 0 ? 4 : 2), 4);
  }
  EXPECT_GE(holding, 1u);
  EXPECT_EQ(repeats, holding);
  EXPECT_THAT(log.str(), HasSubstr("thaw: skipped train sample 4: pattern/4.png: corrupt or unsupported PNG"));
  EXPECT_EQ(testing::slurp(dir / "skipped.txt"), "train sample 4: pattern/4.png: corrupt or unsupported PNG\n");

  cfg.loader.on_bad_image = BadImagePolicy::Fail;
  cfg.out_dir.clear();
  state = start;
  EXPECT_THAT(testing::user_error_of([&] { train(g, state, data, nullptr, cfg, log, nullptr); }),
              HasSubstr("pattern/4.png: corrupt or unsupported PNG (--on-bad-image skip"));
}

}  // namespace
}  // namespace thaw
