// Data parallelism on thread ranks: the same bits after every step for N = 1, 2, 4 with the same
// V, each rank decoding only its own shards' samples, whatever the gradient buckets; the sharded
// step is the mean of the shards' single-batch steps; bad shard layouts are user errors; a
// failing rank stops the run with its name, also when it fails to send its gradient buckets.
#include <algorithm>
#include <cstring>
#include <mutex>
#include <sstream>
#include <utility>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/philox.h"
#include "engine/model/plan.h"
#include "engine/run/rank_context.h"
#include "engine/parallel/rank_threads.h"
#include "engine/model/state_hash.h"
#include "engine/run/record_steps.h"
#include "engine/parallel/shards.h"
#include "engine/data/synthetic.h"
#include "engine/train/train_step.h"
#include "graph/inception_v4.h"

namespace thaw {
namespace {

constexpr int64_t kSize = 75;
constexpr int64_t kClasses = 4;

// Samples as a pure function of their index; counts how often each is decoded.
class NoiseDataset final : public Dataset {
 public:
  explicit NoiseDataset(int64_t n) : n_(n), loads_(static_cast<size_t>(n), 0) {}
  int64_t size() const override { return n_; }
  int64_t num_classes() const override { return kClasses; }
  std::vector<std::string> class_names() const override { return {"a", "b", "c", "d"}; }
  int32_t label(int64_t i) const override { return static_cast<int32_t>((i * 7) % kClasses); }
  void load(int64_t i, int64_t size, LoadMode, float* chw) const override {
    const CounterRng rng(21, RngPurpose::Synthetic, 0, static_cast<uint32_t>(i));
    for (int64_t e = 0; e < 3 * size * size; ++e) chw[e] = 2.0f * rng.uniform_float_at(e) - 1.0f;
    const std::lock_guard<std::mutex> lock(mu_);
    ++loads_[static_cast<size_t>(i)];
  }
  std::string describe() const override { return "noise"; }
  std::vector<int> loads() const {
    const std::lock_guard<std::mutex> lock(mu_);
    return loads_;
  }

 private:
  int64_t n_;
  mutable std::mutex mu_;
  mutable std::vector<int> loads_;  // per sample, over every rank's loader
};

class Lines final : public StepObserver {
 public:
  bool on_step(const StepInfo& info) override {
    lines.push_back(maker_.next(info).dump());
    return true;
  }
  std::vector<std::string> lines;

 private:
  StepLineMaker maker_{DigestRule::blocked};
};

TrainConfig base_config(const Graph& g) {
  TrainConfig c;
  c.batch_size = 8;
  c.epochs = 1;
  c.max_steps = 2;
  c.seed = 5;
  c.freeze_block = g.find_block("mixed_6h");
  c.optimizer.kind = OptimizerConfig::Kind::Sgd;
  c.optimizer.momentum = 0.9;
  c.optimizer.weight_decay = 1e-4;
  c.schedule.kind = LrScheduleConfig::Kind::Constant;
  c.schedule.base_lr = 0.05;
  c.shards = 4;
  return c;
}

struct RunResult {
  std::vector<std::string> lines;
  std::string state;
  std::vector<int> loads;  // decodes per sample, all ranks together
};

RunResult run_with_ranks(const Graph& g, const TrainConfig& cfg, int ranks) {
  const NoiseDataset data(24);
  ModelState<float> state = ModelState<float>::random(g, 9);
  RankOptions o;
  o.threads = ranks;
  RankContext ctx(o);
  Lines lines;
  std::ostringstream log;
  ctx.train(g, state, data, nullptr, cfg, log, &lines);
  return {lines.lines, state_sha256(g, state), data.loads()};
}

// Samples decoded exactly once, and samples decoded more often than that.
std::pair<int, int> once_and_more(const std::vector<int>& loads) {
  const auto once = std::count(loads.begin(), loads.end(), 1);
  const auto more = std::count_if(loads.begin(), loads.end(), [](int c) { return c > 1; });
  return {static_cast<int>(once), static_cast<int>(more)};
}

TEST(ParallelStep, OneTwoAndFourThreadRanksGiveTheSameBits) {
  const Graph g = build_inception_v4(kSize, kClasses, 0.25);  // dropout: keyed by batch position
  const TrainConfig cfg = base_config(g);
  const RunResult one = run_with_ranks(g, cfg, 1);
  ASSERT_EQ(one.lines.size(), 2u);
  // Two batches of 8 distinct samples.
  EXPECT_EQ(once_and_more(one.loads), std::make_pair(16, 0));
  for (const int n : {2, 4}) {
    // N = 2 with the default buckets (about a dozen here), N = 4 with a bucket per tensor or so:
    // where the buckets end changes no bits.
    TrainConfig c = cfg;
    if (n == 4) c.gradient_bucket_floats = 4096;
    const RunResult many = run_with_ranks(g, c, n);
    // Each rank decoded only its own shards' samples: every sample of the batches once in all.
    EXPECT_EQ(once_and_more(many.loads), std::make_pair(16, 0)) << "N=" << n;
    ASSERT_EQ(many.lines.size(), one.lines.size()) << "N=" << n;
    for (size_t s = 0; s < one.lines.size(); ++s) EXPECT_EQ(many.lines[s], one.lines[s]) << "N=" << n << " step " << s;
    // The whole state: parameters, running statistics and num_batches_tracked.
    EXPECT_EQ(many.state, one.state) << "N=" << n;
  }
  // With --on-bad-image skip a skipped sample's stand-in may be another rank's sample: every rank
  // loads the whole batch, as before per-rank loading, with the same bits.
  TrainConfig skip = cfg;
  skip.loader.on_bad_image = BadImagePolicy::Skip;
  const RunResult two = run_with_ranks(g, skip, 2);
  EXPECT_EQ(once_and_more(two.loads), std::make_pair(0, 16));
  EXPECT_EQ(two.lines, one.lines);
  EXPECT_EQ(two.state, one.state);
}

// Gradients as the optimizer saw them after a step, one vector per trainable tensor.
// The bf16 rule (--precision bf16 --emulate-bf16) keeps the bits independent of N, and is not fp32.
TEST(ParallelStep, Bf16StepsGiveTheSameBitsOnOneAndTwoRanks) {
  const Graph g = build_inception_v4(kSize, kClasses, 0.25);
  TrainConfig cfg = base_config(g);
  const RunResult fp32 = run_with_ranks(g, cfg, 1);
  cfg.numerics = Numerics::Bf16;
  const RunResult one = run_with_ranks(g, cfg, 1), two = run_with_ranks(g, cfg, 2);
  ASSERT_EQ(one.lines.size(), 2u);
  EXPECT_EQ(two.lines, one.lines);
  EXPECT_EQ(two.state, one.state);
  EXPECT_NE(one.state, fp32.state);
}

std::vector<std::vector<float>> grads_of(const TrainStep& step) {
  std::vector<std::vector<float>> out;
  for (const ParamRef<float>& p : step.params()) out.emplace_back(p.grad, p.grad + p.size);
  return out;
}

TEST(ParallelStep, TheShardedStepIsTheMeanOfTheShardsSteps) {
  const Graph g = build_inception_v4(kSize, kClasses, 0.0);
  const Plan plan = make_plan(g, g.find_block("mixed_6h"), BnPolicy::Train);
  TrainConfig cfg = base_config(g);
  cfg.optimizer.momentum = 0;
  Tensor<float> x;
  std::vector<int32_t> labels;
  synthetic_batch(3, 0, 4, kSize, kClasses, x, labels);
  const ModelState<float> init = ModelState<float>::random(g, 4);

  // Each half alone, as a batch of its own (V = 1).
  std::vector<double> half_loss;
  std::vector<std::vector<std::vector<float>>> half_grads;
  TrainConfig half = cfg;
  half.batch_size = 2;
  half.shards = 1;
  for (int h = 0; h < 2; ++h) {
    ModelState<float> st = init;
    Tensor<float> xh({2, 3, kSize, kSize});
    std::memcpy(xh.data(), x.data() + h * xh.numel(), static_cast<size_t>(xh.numel()) * sizeof(float));
    TrainStep step(g, plan, st, half);
    half_loss.push_back(step.run({&xh, std::span<const int32_t>(labels).subspan(2 * h, 2)}, 0, 0.1));
    half_grads.push_back(grads_of(step));
  }

  ModelState<float> st = init;
  cfg.batch_size = 4;
  cfg.shards = 2;
  TrainStep step(g, plan, st, cfg);
  const double loss = step.run({&x, labels}, 0, 0.1);
  EXPECT_EQ(loss, (half_loss[0] + half_loss[1]) / 2);
  const auto grads = grads_of(step);
  ASSERT_EQ(grads.size(), half_grads[0].size());
  int64_t compared = 0, nonzero = 0;
  for (size_t t = 0; t < grads.size(); ++t) {
    for (size_t i = 0; i < grads[t].size(); ++i) {
      const float want = (half_grads[0][t][i] + half_grads[1][t][i]) * 0.5f;
      ASSERT_EQ(std::memcmp(&grads[t][i], &want, sizeof want), 0) << step.params()[t].name << "[" << i << "]";
      ++compared;
      nonzero += want != 0.0f;
    }
  }
  EXPECT_GT(nonzero, compared / 2);
  // Batch norm advanced once per shard.
  const int bn = g.find_block("mixed_7d");
  const Node& first_bn_of_7d = g.nodes[static_cast<size_t>(g.blocks[bn].first_node + 1)];
  ASSERT_EQ(first_bn_of_7d.kind, OpKind::BatchNorm);
  EXPECT_EQ(st.batches_tracked[first_bn_of_7d.tensors[4]], init.batches_tracked[first_bn_of_7d.tensors[4]] + 2);
}

TEST(ParallelStep, ShardLayoutsThatCannotWorkAreUserErrors) {
  const Graph g = build_inception_v4(kSize, kClasses, 0.0);
  TrainConfig cfg = base_config(g);
  auto message = [&](int64_t shards, int ranks) -> std::string {
    TrainConfig c = cfg;
    c.shards = shards;
    c.ranks = ranks;
    try {
      validate_shards(c, g);
    } catch (const UserError& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_EQ(message(4, 2), "");
  EXPECT_NE(message(2, 4).find("4 ranks do not divide --shards 2"), std::string::npos) << message(2, 4);
  EXPECT_NE(message(3, 1).find("--shards: expected a power of two"), std::string::npos);
  EXPECT_NE(message(16, 1).find("--shards 16 does not divide --batch-size 8"), std::string::npos);
  EXPECT_NE(message(4, 3).find("--ranks: expected a power of two"), std::string::npos);
  // Shards of one sample leave the 1x1 batch norms of mixed_7x one value per channel.
  EXPECT_NE(message(8, 1).find("one value per channel"), std::string::npos) << message(8, 1);
  cfg.bn = BnPolicy::Frozen;
  EXPECT_EQ(message(8, 1), "");
  EXPECT_EQ(resolve_shards(0, 32), 8);
  EXPECT_EQ(resolve_shards(0, 12), 1);
  EXPECT_EQ(resolve_shards(2, 12), 2);
}

TEST(ParallelStep, TheDefaultShardsNeverLeaveABatchNormOneValue) {
  const Graph g = build_inception_v4(75, 3, 0.0);  // mixed_7x maps are 1x1 at 75
  const Plan trains_7d = make_plan(g, g.find_block("mixed_7c"), BnPolicy::Train);
  // Batch 8: 8 shards of one sample fail; 4 shards of two do not.
  EXPECT_EQ(usable_default_shards(8, 8, g, trains_7d), 4);
  TrainConfig c;
  c.batch_size = 8;
  c.freeze_block = g.find_block("mixed_7c");
  c.shards = 4;
  EXPECT_NO_THROW(validate_shards(c, g));
  EXPECT_EQ(usable_default_shards(8, 16, g, trains_7d), 8);  // shards of two: the default stands
  EXPECT_EQ(usable_default_shards(1, 4, g, trains_7d), 1);
  // Frozen batch norm, or only the head training: nothing to protect.
  EXPECT_EQ(usable_default_shards(8, 8, g, make_plan(g, g.find_block("mixed_7c"), BnPolicy::Frozen)), 8);
  EXPECT_EQ(usable_default_shards(8, 8, g, make_plan(g, g.find_block("mixed_7d"), BnPolicy::Train)), 8);
  // At 299 the last maps are 8x8: one sample per shard is enough.
  const Graph big = build_inception_v4(299, 3, 0.0);
  EXPECT_EQ(usable_default_shards(8, 8, big, make_plan(big, -1, BnPolicy::Train)), 8);
}

// An observer that fails at step 1, as a full disk would fail the run record.
class FailsAtStepOne final : public StepObserver {
 public:
  bool on_step(const StepInfo& info) override {
    if (info.step == 1) throw UserError("cannot write steps.jsonl: No space left on device");
    return true;
  }
};

TEST(ParallelStep, ARankMissingFromTheGradientBucketsIsNamed) {
  const Graph g = build_inception_v4(kSize, kClasses, 0.0);
  const Plan plan = make_plan(g, g.find_block("mixed_6h"), BnPolicy::Train);
  TrainConfig cfg = base_config(g);
  cfg.ranks = 2;
  Tensor<float> x;
  std::vector<int32_t> labels;
  synthetic_batch(3, 0, 4, kSize, kClasses, x, labels);  // rank 0's rows of a batch of 8
  try {
    run_thread_ranks(2, std::chrono::milliseconds(300), [&](Comm& comm) {
      if (comm.rank() == 1) return;  // never sends its gradients
      ModelState<float> st = ModelState<float>::random(g, 4);
      TrainConfig c = cfg;
      c.comm = &comm;
      TrainStep step(g, plan, st, c);
      step.run({&x, labels, 0}, 0, 0.1);
    });
    FAIL() << "no error";
  } catch (const RankFailure& e) {
    // Thrown on rank 0's bucket thread while backward went on, rethrown on the step's thread.
    EXPECT_EQ(e.rank(), 1);
    EXPECT_NE(std::string(e.what()).find("rank 1 did not answer for 0.3 s (rank 0 was waiting for its gradients at "
                                         "step 0 (bucket 1 of "),
              std::string::npos)
        << e.what();
  }
}

TEST(ParallelStep, AFailingRankStopsTheOthers) {
  const Graph g = build_inception_v4(kSize, kClasses, 0.0);
  const NoiseDataset data(24);
  ModelState<float> state = ModelState<float>::random(g, 9);
  RankOptions o;
  o.threads = 2;
  RankContext ctx(o);
  FailsAtStepOne observer;
  std::ostringstream log;
  const auto t0 = std::chrono::steady_clock::now();
  try {
    ctx.train(g, state, data, nullptr, base_config(g), log, &observer);
    FAIL() << "no error";
  } catch (const UserError& e) {
    EXPECT_EQ(std::string(e.what()), "rank 0: cannot write steps.jsonl: No space left on device");
  }
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 40.0);
}

}  // namespace
}  // namespace thaw
