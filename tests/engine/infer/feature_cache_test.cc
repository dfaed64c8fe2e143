// The feature cache: where the boundary is, that starting at it gives forward's bits, that a
// sample's cached activations do not depend on its batch, what invalidates an entry, the spill
// file, and a training run with and without the cache ending in the same bits.
#include <gtest/gtest.h>

#include "tests/support/same_bytes.h"

#include <cstring>
#include <sstream>

#include "core/philox.h"
#include "engine/infer/feature_cache.h"
#include "engine/infer/predict_data.h"
#include "engine/train/trainer.h"
#include "graph/inception_v4.h"

namespace thaw {
namespace {

bool same_bits(const float* a, const float* b, int64_t n) { return testkit::same_bytes(a, b, static_cast<size_t>(n) * 4); }

// Sample i: pixels from Philox keyed by (i mod period), so samples i and i + period are
// byte-identical copies (and say so through their content hash); label i % classes.
class NoiseData final : public Dataset {
 public:
  NoiseData(int64_t n, int classes, int64_t period, bool with_hash = true)
      : n_(n), classes_(classes), period_(period), with_hash_(with_hash) {}
  int64_t size() const override { return n_; }
  int64_t num_classes() const override { return classes_; }
  std::vector<std::string> class_names() const override {
    std::vector<std::string> v;
    for (int c = 0; c < classes_; ++c) v.push_back("c" + std::to_string(c));
    return v;
  }
  int32_t label(int64_t i) const override { return static_cast<int32_t>(i % classes_); }
  void load(int64_t i, int64_t size, LoadMode, float* chw) const override {
    const CounterRng rng(77, RngPurpose::Synthetic, 0, static_cast<uint32_t>(i % period_));
    for (int64_t e = 0; e < 3 * size * size; ++e) chw[e] = static_cast<float>(2.0 * rng.uniform_double_at(e) - 1.0);
  }
  std::string describe() const override { return "noise"; }
  std::string content_hash(int64_t i) const override {
    return with_hash_ ? "noise-" + std::to_string(i % period_) : std::string();
  }

 private:
  int64_t n_;
  int classes_;
  int64_t period_;
  bool with_hash_;
};

Tensor<float> pixels(const Dataset& d, const std::vector<int64_t>& idx, int64_t size) {
  Tensor<float> x({static_cast<int64_t>(idx.size()), 3, size, size});
  for (size_t r = 0; r < idx.size(); ++r) d.load(idx[r], size, LoadMode::eval(), x.data() + r * 3 * size * size);
  return x;
}

TEST(FeatureCache, BoundaryIsTheLastFrozenNodeWhenThereIsOne) {
  const Graph g = build_inception_v4(75, 4);
  EXPECT_EQ(cache_boundary(g, make_plan(g, -1, BnPolicy::Train)), -1);  // nothing frozen
  const int head = g.find_block("head");
  EXPECT_EQ(cache_boundary(g, make_plan(g, head, BnPolicy::Train)), -1);  // nothing trains
  for (const char* b : {"conv2d_1a", "mixed_5e", "mixed_6h", "mixed_7d"}) {
    const int blk = g.find_block(b);
    EXPECT_EQ(cache_boundary(g, make_plan(g, blk, BnPolicy::Train)), g.blocks[blk].last_node) << b;
  }
}

TEST(FeatureCache, StartingAtTheBoundaryGivesForwardsBits) {
  const Graph g = build_inception_v4(75, 4);
  ModelState<float> state = ModelState<float>::random(g, 5);
  const Plan plan = make_plan(g, g.find_block("mixed_6a"), BnPolicy::Train);
  const int boundary = cache_boundary(g, plan);
  NoiseData data(3, 4, 100);
  const Tensor<float> x = pixels(data, {0, 1, 2}, 75);
  Executor<float> whole(g, plan, state), halves(g, plan, state);
  const Tensor<float> logits = whole.forward(x, Phase::Eval);
  const Tensor<float> act = halves.forward_until(x, boundary, Phase::Eval);
  const Tensor<float>& from = halves.forward_from(boundary, act, Phase::Eval);
  ASSERT_EQ(from.shape(), logits.shape());
  EXPECT_TRUE(same_bits(from.data(), logits.data(), logits.numel()));
}

TEST(FeatureCache, ReusedActivationsAreThoseOfTheSampleAloneWhateverItsBatch) {
  const Graph g = build_inception_v4(75, 4);
  ModelState<float> state = ModelState<float>::random(g, 6);
  const Plan plan = make_plan(g, g.find_block("mixed_5e"), BnPolicy::Train);
  FeatureCache cache(g, cache_boundary(g, plan), state);
  NoiseData data(8, 4, 6);  // samples 6 and 7 are copies of 0 and 1
  const int64_t per = shape_numel(g.nodes[cache.boundary()].out);
  const Tensor<float> first = cache.boundary_batch(data, std::vector<int64_t>{0, 1, 2}, pixels(data, {0, 1, 2}, 75));
  EXPECT_EQ(cache.stats().computed, 3);
  // Sample 2 computed alone, by a fresh cache: the same bits as in the batch of three.
  FeatureCache alone(g, cache.boundary(), state);
  const Tensor<float> two = alone.boundary_batch(data, std::vector<int64_t>{2}, pixels(data, {2}, 75));
  EXPECT_TRUE(same_bits(two.data(), first.data() + 2 * per, per));
  // Reordered and mixed with new samples and copies: 2 and 0 reused, 6 (a copy of 0) reused, 3 computed.
  const Tensor<float> again =
      cache.boundary_batch(data, std::vector<int64_t>{2, 3, 0, 6}, pixels(data, {2, 3, 0, 6}, 75));
  EXPECT_EQ(cache.stats().computed, 4);
  EXPECT_EQ(cache.stats().reused, 3);
  EXPECT_TRUE(same_bits(again.data(), first.data() + 2 * per, per));
  EXPECT_TRUE(same_bits(again.data() + 2 * per, first.data(), per));
  EXPECT_TRUE(same_bits(again.data() + 3 * per, first.data(), per));
}

TEST(FeatureCache, KeysChangeWithTheFrozenWeightsTheBoundaryThePreprocessingAndTheSample) {
  const Graph g = build_inception_v4(75, 4);
  ModelState<float> state = ModelState<float>::random(g, 7);
  const Plan plan = make_plan(g, g.find_block("mixed_6h"), BnPolicy::Train);
  const int boundary = cache_boundary(g, plan);
  const std::string key = frozen_part_key(g, boundary, state);
  EXPECT_EQ(key.size(), 32u);
  EXPECT_EQ(frozen_part_key(g, boundary, state), key);
  // A trainable tensor (the head) does not matter; a frozen weight and a running statistic do.
  const int head_w = g.nodes[g.output_node()].tensors[0];
  state.values[head_w][0] += 1.0f;
  EXPECT_EQ(frozen_part_key(g, boundary, state), key);
  const int conv_w = g.nodes[1].tensors[0];
  state.values[conv_w][0] += 1e-6f;
  EXPECT_NE(frozen_part_key(g, boundary, state), key);
  state.values[conv_w][0] -= 1e-6f;
  ASSERT_EQ(frozen_part_key(g, boundary, state), key);
  for (size_t t = 0; t < g.tensors.size(); ++t) {
    if (g.tensors[t].role == TensorRole::RunningVar) {
      state.values[t][0] *= 1.5f;
      break;
    }
  }
  EXPECT_NE(frozen_part_key(g, boundary, state), key);
  const std::string key2 = frozen_part_key(g, boundary, state);
  EXPECT_NE(frozen_part_key(g, g.blocks[g.find_block("mixed_6g")].last_node, state), key2);  // another freeze point
  const Graph bigger = build_inception_v4(107, 4);  // other preprocessing: other input size
  ModelState<float> bstate = ModelState<float>::random(bigger, 7);
  EXPECT_NE(frozen_part_key(bigger, bigger.blocks[bigger.find_block("mixed_6h")].last_node, bstate), key2);

  FeatureCache cache(g, boundary, state);
  NoiseData hashed(4, 4, 2), unhashed(4, 4, 2, false);
  const Tensor<float> x = pixels(hashed, {0, 1, 2}, 75);
  EXPECT_EQ(cache.sample_key(hashed, 0, x.data()), cache.sample_key(hashed, 2, x.data() + 2 * 3 * 75 * 75));
  EXPECT_NE(cache.sample_key(hashed, 0, x.data()), cache.sample_key(hashed, 1, x.data() + 3 * 75 * 75));
  // Without a content hash the pixels are the sample.
  EXPECT_EQ(cache.sample_key(unhashed, 0, x.data()), cache.sample_key(unhashed, 2, x.data() + 2 * 3 * 75 * 75));
  EXPECT_NE(cache.sample_key(unhashed, 0, x.data()), cache.sample_key(unhashed, 1, x.data() + 3 * 75 * 75));
}

TEST(FeatureCache, EntriesPastTheMemoryBudgetGoToTheSpillFile) {
  const Graph g = build_inception_v4(75, 4);
  ModelState<float> state = ModelState<float>::random(g, 8);
  const int boundary = cache_boundary(g, make_plan(g, g.find_block("mixed_7d"), BnPolicy::Train));
  const int64_t per = shape_numel(g.nodes[boundary].out);
  FeatureCacheOptions small;
  small.memory_bytes = per * 4;  // one sample in memory, the rest on disk
  FeatureCache spilled(g, boundary, state, small), in_memory(g, boundary, state);
  NoiseData data(4, 4, 100);
  const std::vector<int64_t> idx = {0, 1, 2, 3};
  const Tensor<float> x = pixels(data, idx, 75);
  const Tensor<float> a = in_memory.boundary_batch(data, idx, x);
  spilled.boundary_batch(data, idx, x);
  EXPECT_EQ(spilled.stats().memory_bytes, per * 4);
  EXPECT_EQ(spilled.stats().disk_bytes, 3 * per * 4);
  const Tensor<float> b = spilled.boundary_batch(data, std::vector<int64_t>{3, 2, 1, 0}, pixels(data, {3, 2, 1, 0}, 75));
  for (int r = 0; r < 4; ++r) EXPECT_TRUE(same_bits(b.data() + r * per, a.data() + (3 - r) * per, per)) << r;
}

TEST(FeatureCache, PredictionsThroughTheCacheAreTheSame) {
  const Graph g = build_inception_v4(75, 3);
  ModelState<float> state = ModelState<float>::random(g, 9);
  NoiseData data(5, 3, 100);
  FeatureCache cache(g, g.blocks[g.find_block("mixed_6h")].last_node, state);
  // The same batches: the layers after the boundary (the classifier's product) may round
  // differently for another batch size, with or without the cache.
  const DatasetPredictions plain = predict_dataset(g, state, data, 3);
  const DatasetPredictions cached = predict_dataset(g, state, data, 3, &cache);
  const DatasetPredictions again = predict_dataset(g, state, data, 3, &cache);  // all reused
  EXPECT_EQ(cache.stats().reused, 5);
  ASSERT_EQ(plain.probs.size(), cached.probs.size());
  EXPECT_EQ(std::memcmp(plain.probs.data(), cached.probs.data(), plain.probs.size() * sizeof(double)), 0);
  EXPECT_EQ(plain.predicted, cached.predicted);
  EXPECT_EQ(plain.loss, cached.loss);
  EXPECT_EQ(std::memcmp(plain.probs.data(), again.probs.data(), plain.probs.size() * sizeof(double)), 0);
}

// Training steps that start at the boundary (and evaluations that read it back) give the same
// weights, losses and held-out numbers as steps from pixels, with one shard and with two.
TEST(FeatureCache, TrainingWithAndWithoutTheCacheEndsInTheSameBits) {
  const Graph g = build_inception_v4(75, 3);
  const ModelState<float> start = ModelState<float>::random(g, 11);
  NoiseData train_data(8, 3, 100), val_data(3, 3, 100);  // val samples are copies of train's first three
  for (int64_t shards : {1, 2}) {
    TrainConfig cfg;
    cfg.batch_size = 4;
    cfg.epochs = 2;
    cfg.seed = 3;
    cfg.shards = shards;
    cfg.freeze_block = g.find_block("mixed_6h");
    cfg.schedule.base_lr = 0.01;
    cfg.eval_batch_size = 4;
    ModelState<float> plain = start, cached = start;
    std::ostringstream log_plain, log_cached;
    const TrainSummary a = train(g, plain, train_data, &val_data, cfg, log_plain);
    cfg.cache_train = cfg.cache_eval = true;
    const TrainSummary b = train(g, cached, train_data, &val_data, cfg, log_cached);
    EXPECT_NE(log_cached.str().find("8 samples computed, 14 reused"), std::string::npos) << log_cached.str();
    ASSERT_EQ(a.epochs.size(), 2u);
    ASSERT_EQ(b.epochs.size(), 2u);
    for (size_t e = 0; e < 2; ++e) {
      EXPECT_EQ(a.epochs[e].train_loss, b.epochs[e].train_loss) << "shards " << shards << " epoch " << e;
      EXPECT_EQ(a.epochs[e].val_loss, b.epochs[e].val_loss) << "shards " << shards << " epoch " << e;
    }
    int changed = 0;
    for (size_t t = 0; t < g.tensors.size(); ++t) {
      const Tensor<float>& x = plain.values[t];
      ASSERT_EQ(x.numel(), cached.values[t].numel());
      EXPECT_TRUE(same_bits(x.data(), cached.values[t].data(), x.numel())) << g.tensors[t].name << " shards " << shards;
      changed += x.numel() > 0 && !same_bits(x.data(), start.values[t].data(), x.numel());
    }
    EXPECT_GT(changed, 10);  // the trainable blocks moved
  }
}

}  // namespace
}  // namespace thaw
