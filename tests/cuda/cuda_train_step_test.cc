// The GPU training step (engine/train/cuda_train_step.h) against the CPU TrainStep (engine/train/train_step.h):
// three steps from the same weights on the same synthetic batches (139 px, so that the last maps
// are 3x3 and a shard of 2 still gives batch norm 18 values per channel; batch 4, 5 classes,
// dropout 0.2 before the classifier, frozen through mixed_5e, batch norm training), with V = 1 and
// V = 2 virtual shards, SGD with Nesterov momentum and AdamW. Every step's loss, and after the
// three steps every value of the state (parameters and running statistics), every optimizer state
// tensor and num_batches_tracked, are compared element by element (tolerance.h: training_steps,
// optimizer_state, training_loss); frozen tensors must keep their bits. Then the same GPU run
// twice must give the same bits, also where the second stages each next batch during the step before;
// and a channels-last front must train like the NCHW one.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/philox.h"
#include "engine/train/cuda_train_step.h"
#include "engine/data/synthetic.h"
#include "engine/train/train_step.h"
#include "graph/inception_v4.h"
#include "tests/cuda/cuda_test_util.h"
#include "tests/cuda/step_optimizers.h"

namespace thaw::cuda_test {
namespace {

constexpr int64_t kSize = 139, kBatch = 4, kClasses = 5, kSteps = 3;
constexpr double kLr[kSteps] = {1e-3, 5e-4, 2.5e-4};

using CudaTrainStepTest = CudaTest;

struct Model {
  Graph g = build_inception_v4(kSize, kClasses, 0.2);
  Plan plan;
  ModelState<float> init;
  // freeze_through null: every node trains.
  explicit Model(const char* freeze_through = "mixed_5e")
      : plan(make_plan(g, freeze_through ? g.find_block(freeze_through) : -1, BnPolicy::Train)),
        init(ModelState<float>::random(g, 7)) {
    // Trainable betas at +5 or -5 per channel, so that no rounding difference flips a ReLU after
    // a batch norm (tests/cuda/network_parity_test.cc explains why).
    for (size_t t = 0; t < g.tensors.size(); ++t) {
      if (g.tensors[t].role != TensorRole::BnBias || !plan.trainable[g.tensors[t].node]) continue;
      const CounterRng rng(5, RngPurpose::Synthetic, 2, static_cast<uint32_t>(t));
      Tensor<float>& v = init.values[t];
      for (int64_t i = 0; i < v.numel(); ++i) v[i] = (rng.u32_at(static_cast<uint64_t>(i)) & 1) ? 5.0f : -5.0f;
    }
  }
};

TrainConfig config(int64_t shards, const OptimizerConfig& oc) {
  TrainConfig c;
  c.batch_size = kBatch;
  c.shards = shards;
  c.seed = 3;
  c.optimizer = oc;
  c.schedule.base_lr = kLr[0];
  return c;
}

struct RunResult {
  std::vector<double> losses;
  ModelState<float> state;
  std::map<std::string, std::vector<float>> optimizer;
};

// Three steps of `Step` (TrainStep or CudaTrainStep) from the model's initial weights. staged (the
// GPU step): each batch after the first is handed to stage() during the step before, as the
// training loop does (engine/train/trainer.cc), and run marked as staged.
template <typename Step>
RunResult train_steps(const Model& m, const TrainConfig& cfg, bool staged = false) {
  RunResult r;
  r.state = m.init;
  Step step(m.g, m.plan, r.state, cfg);
  std::vector<Tensor<float>> x(kSteps);
  std::vector<std::vector<int32_t>> labels(kSteps);
  for (int64_t s = 0; s < kSteps; ++s) synthetic_batch(9, s, kBatch, kSize, kClasses, x[s], labels[s]);
  for (int64_t s = 0; s < kSteps; ++s) {
    StepBatch batch{&x[s], labels[s], 0};
    if constexpr (std::is_same_v<Step, CudaTrainStep>) {
      if (staged) {
        batch.staged = s > 0;
        const auto next = [&] {
          if (s + 1 < kSteps) step.stage({&x[s + 1], labels[s + 1], 0});
        };
        r.losses.push_back(step.run_overlapping(batch, s, kLr[s], next));
        continue;
      }
    }
    r.losses.push_back(step.run(batch, s, kLr[s]));
  }
  if constexpr (std::is_same_v<Step, CudaTrainStep>) step.sync_state();  // the host copies, as the loop asks
  for (const auto& [name, span] : step.optimizer().state()) r.optimizer[name] = {span.begin(), span.end()};
  return r;
}

std::vector<float> values(const Tensor<float>& t) { return {t.data(), t.data() + t.numel()}; }

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(static_cast<double>(a[i]) - b[i]));
  return m;
}

void check_against_cpu(int64_t shards, const OptimizerConfig& oc, const std::string& tag) {
  const Model m;
  TrainConfig cfg = config(shards, oc);
  cfg.gpu_fold_frozen = false;  // the CPU's order of operations in the frozen part too
  const RunResult cpu = train_steps<TrainStep>(m, cfg);
  const RunResult gpu = train_steps<CudaTrainStep>(m, cfg);
  ASSERT_EQ(gpu.losses.size(), cpu.losses.size());
  for (size_t s = 0; s < cpu.losses.size(); ++s) {
    EXPECT_TRUE(std::isfinite(cpu.losses[s])) << tag << " step " << s;
    EXPECT_TRUE(all_close(tag + " loss of step " + std::to_string(s), {static_cast<float>(gpu.losses[s])},
                          {static_cast<float>(cpu.losses[s])}, training_loss()));
  }
  size_t moved = 0, movable = 0, checked = 0;
  for (size_t tn = 0; tn < m.g.tensors.size(); ++tn) {
    const TensorSpec& spec = m.g.tensors[tn];
    if (spec.role == TensorRole::NumBatchesTracked) continue;
    const std::vector<float> want = values(cpu.state.values[tn]), got = values(gpu.state.values[tn]);
    const std::vector<float> init = values(m.init.values[tn]);
    const std::string what = tag + " " + spec.name;
    const bool trains = m.plan.trainable[spec.node];
    if (!trains) {
      EXPECT_TRUE(same_bits(what + " (frozen)", got, init));
      continue;
    }
    ++checked;
    EXPECT_TRUE(all_close(what, got, want, training_steps(max_abs_diff(want, init), max_abs(want))));
    // Not vacuous: every trainable weight and running statistic really moved on the CPU. (Betas at
    // +-5 may not: where the next batch norm removes their shift again, their gradient is rounding
    // noise and the update stays under half an ulp of 5.)
    const TensorRole r = spec.role;
    if (r == TensorRole::Weight || r == TensorRole::RunningMean || r == TensorRole::RunningVar) {
      ++movable;
      moved += std::memcmp(want.data(), init.data(), want.size() * sizeof(float)) != 0;
    }
  }
  EXPECT_EQ(moved, movable) << tag;
  // The largest value of each kind of optimizer state, over all tensors (optimizer_state's floor).
  std::map<std::string, double> kind_scale;
  auto kind_of = [](const std::string& name) { return name.substr(name.rfind('.') + 1); };
  for (const auto& [name, want] : cpu.optimizer) {
    double& k = kind_scale[kind_of(name)];
    k = std::max(k, max_abs(want));
  }
  for (const auto& [name, want] : cpu.optimizer) {
    ASSERT_TRUE(gpu.optimizer.count(name)) << tag << ": no optimizer state " << name << " from the GPU step";
    EXPECT_TRUE(all_close(tag + " " + name, gpu.optimizer.at(name), want,
                          optimizer_state(max_abs(want), kind_scale[kind_of(name)])));
    ++checked;
  }
  EXPECT_EQ(gpu.optimizer.size(), cpu.optimizer.size()) << tag;
  EXPECT_EQ(gpu.state.batches_tracked, cpu.state.batches_tracked) << tag;
  std::printf("[train-step] %s: %lld steps, losses cpu %.9g %.9g %.9g gpu %.9g %.9g %.9g; %zu tensors compared\n",
              tag.c_str(), static_cast<long long>(kSteps), cpu.losses[0], cpu.losses[1], cpu.losses[2],
              gpu.losses[0], gpu.losses[1], gpu.losses[2], checked);
}

TEST_F(CudaTrainStepTest, SgdOneShardTrainsLikeTheCpu) { check_against_cpu(1, sgd_momentum(), "sgd V=1"); }
TEST_F(CudaTrainStepTest, SgdTwoShardsTrainLikeTheCpu) { check_against_cpu(2, sgd_momentum(), "sgd V=2"); }
TEST_F(CudaTrainStepTest, AdamWOneShardTrainsLikeTheCpu) { check_against_cpu(1, adamw(), "adamw V=1"); }
TEST_F(CudaTrainStepTest, AdamWTwoShardsTrainLikeTheCpu) { check_against_cpu(2, adamw(), "adamw V=2"); }

// --precision bf16: the GPU step against the CPU twin of the bf16 rule (engine/model/mixed_precision.h).
// Both round the same values to bf16, but the convolutions' fp32 sums run in other orders, so
// roundings land on neighbouring bf16 values here and there: the bound is on the update, a first
// one (printed for tightening): each trainable tensor's GPU update within 10% of the CPU's largest
// update, and the losses within 1%. A missing rounding point or a wiring error moves them by more.
TEST_F(CudaTrainStepTest, Bf16TwoShardsTrainNearTheCpuTwin) {
  const Model m;
  TrainConfig cfg = config(2, sgd_momentum());
  cfg.numerics = Numerics::Bf16;
  const RunResult cpu = train_steps<TrainStep>(m, cfg);
  const RunResult gpu = train_steps<CudaTrainStep>(m, cfg);
  for (size_t s = 0; s < cpu.losses.size(); ++s) {
    EXPECT_NEAR(gpu.losses[s], cpu.losses[s], 0.01 * std::fabs(cpu.losses[s])) << "bf16 loss of step " << s;
  }
  double worst = 0;
  for (size_t tn = 0; tn < m.g.tensors.size(); ++tn) {
    const TensorSpec& spec = m.g.tensors[tn];
    if (spec.role == TensorRole::NumBatchesTracked) continue;
    const std::vector<float> want = values(cpu.state.values[tn]), got = values(gpu.state.values[tn]);
    const std::vector<float> init = values(m.init.values[tn]);
    if (!m.plan.trainable[spec.node]) {
      EXPECT_TRUE(same_bits("bf16 " + spec.name + " (frozen)", got, init));
      continue;
    }
    const double moved = max_abs_diff(want, init);
    if (moved == 0) continue;
    const double ratio = max_abs_diff(got, want) / moved;
    worst = std::max(worst, ratio);
    EXPECT_LE(ratio, 0.1) << "bf16 " << spec.name;
  }
  std::printf("[train-step] bf16 V=2: losses cpu %.6g %.6g %.6g gpu %.6g %.6g %.6g; worst |gpu-cpu| / cpu update %.3g\n",
              cpu.losses[0], cpu.losses[1], cpu.losses[2], gpu.losses[0], gpu.losses[1], gpu.losses[2], worst);
}

// The same GPU run twice; with `staged`, the second stages its batches (engine/gpu/batch_uploads.h).
void check_twice(const OptimizerConfig& oc, int64_t shards, const std::string& tag, bool staged = false) {
  const Model m;
  const TrainConfig cfg = config(shards, oc);
  const RunResult a = train_steps<CudaTrainStep>(m, cfg);
  const RunResult b = train_steps<CudaTrainStep>(m, cfg, staged);
  for (size_t s = 0; s < a.losses.size(); ++s) {
    EXPECT_EQ(std::memcmp(&a.losses[s], &b.losses[s], sizeof(double)), 0)
        << tag << " loss of step " << s << ": " << a.losses[s] << " vs " << b.losses[s];
  }
  size_t differ = 0;
  for (size_t tn = 0; tn < m.g.tensors.size(); ++tn) {
    const ::testing::AssertionResult same =
        same_bits(tag + " twice: " + m.g.tensors[tn].name, values(a.state.values[tn]), values(b.state.values[tn]));
    if (!same) {
      ++differ;
      ADD_FAILURE() << same.message();
    }
  }
  for (const auto& [name, v] : a.optimizer) EXPECT_TRUE(same_bits(tag + " twice: " + name, v, b.optimizer.at(name)));
  EXPECT_EQ(a.state.batches_tracked, b.state.batches_tracked);
  std::printf("[determinism] train step %s, %lld steps twice: %zu tensors differ\n", tag.c_str(),
              static_cast<long long>(kSteps), differ);
}

TEST_F(CudaTrainStepTest, SgdTwoShardsTwiceGiveTheSameBits) { check_twice(sgd_momentum(), 2, "sgd V=2"); }
TEST_F(CudaTrainStepTest, AdamWTwoShardsTwiceGiveTheSameBits) { check_twice(adamw(), 2, "adamw V=2"); }
// The next batch copied on a stream of its own during the step before gives the bits of a batch
// copied at its own step.
TEST_F(CudaTrainStepTest, StagedBatchesGiveTheSameBits) { check_twice(adamw(), 2, "adamw V=2 staged", true); }

// Channels-last storage (TrainConfig::gpu_channels_last) trains like NCHW, both folded: every loss
// within training_loss, every trainable value within training_steps of its update; and the same run
// twice gives the same bits. `front`: the frozen front only; `all`: the trainable part too (its
// convolutions' three directions, batch norms, pools, concatenations and global pool channels-last).
void check_channels_last(ChannelsLast scope) {
  const Model m;
  TrainConfig cfg = config(2, adamw());
  const RunResult nchw = train_steps<CudaTrainStep>(m, cfg);
  cfg.gpu_channels_last = scope;
  const RunResult nhwc = train_steps<CudaTrainStep>(m, cfg), again = train_steps<CudaTrainStep>(m, cfg);
  const std::string tag = std::string("channels-last ") + channels_last_name(scope);
  for (size_t s = 0; s < nchw.losses.size(); ++s) {
    EXPECT_TRUE(all_close(tag + " loss of step " + std::to_string(s), {static_cast<float>(nhwc.losses[s])},
                          {static_cast<float>(nchw.losses[s])}, training_loss()));
  }
  size_t checked = 0;
  for (size_t tn = 0; tn < m.g.tensors.size(); ++tn) {
    const TensorSpec& spec = m.g.tensors[tn];
    if (spec.role == TensorRole::NumBatchesTracked) continue;
    const std::vector<float> want = values(nchw.state.values[tn]), got = values(nhwc.state.values[tn]);
    EXPECT_TRUE(same_bits(tag + " twice: " + spec.name, got, values(again.state.values[tn])));
    if (!m.plan.trainable[spec.node]) continue;
    ++checked;
    EXPECT_TRUE(all_close(tag + " " + spec.name, got, want,
                          training_steps(max_abs_diff(want, values(m.init.values[tn])), max_abs(want))));
  }
  EXPECT_GT(checked, 0u);
  std::printf("[train-step] %s: losses %.6g %.6g %.6g, nchw %.6g %.6g %.6g\n", tag.c_str(), nhwc.losses[0],
              nhwc.losses[1], nhwc.losses[2], nchw.losses[0], nchw.losses[1], nchw.losses[2]);
}

TEST_F(CudaTrainStepTest, AChannelsLastFrontTrainsLikeTheNchwFront) { check_channels_last(ChannelsLast::front); }
TEST_F(CudaTrainStepTest, AnAllChannelsLastStepTrainsLikeNchw) { check_channels_last(ChannelsLast::all); }

// bf16 and nothing frozen: the stem's convolution reads the image's channels padded to 8
// (cuda::pixel_channels), the bf16 filter copies and weight gradients go through [k, r, s, c].
// Two bf16 runs whose convolutions sum in other orders: each loss within 1%, each trainable value
// within a tenth of its update (Bf16TwoShardsTrainNearTheCpuTwin's rule); twice the same bits.
TEST_F(CudaTrainStepTest, Bf16AllChannelsLastTrainsLikeNchwWithNothingFrozen) {
  const Model m(nullptr);
  TrainConfig cfg = config(1, sgd_momentum());
  cfg.numerics = Numerics::Bf16;
  const RunResult nchw = train_steps<CudaTrainStep>(m, cfg);
  cfg.gpu_channels_last = ChannelsLast::all;
  const RunResult nhwc = train_steps<CudaTrainStep>(m, cfg), again = train_steps<CudaTrainStep>(m, cfg);
  for (size_t s = 0; s < nchw.losses.size(); ++s) {
    EXPECT_NEAR(nhwc.losses[s], nchw.losses[s], 0.01 * std::fabs(nchw.losses[s])) << "bf16 nhwc loss of step " << s;
  }
  double worst = 0;
  for (size_t tn = 0; tn < m.g.tensors.size(); ++tn) {
    const TensorSpec& spec = m.g.tensors[tn];
    if (spec.role == TensorRole::NumBatchesTracked) continue;
    const std::vector<float> want = values(nchw.state.values[tn]), got = values(nhwc.state.values[tn]);
    EXPECT_TRUE(same_bits("bf16 nhwc twice: " + spec.name, got, values(again.state.values[tn])));
    const double moved = max_abs_diff(want, values(m.init.values[tn]));
    if (moved == 0) continue;
    // A value whose update is rounding noise may move by one float ulp in one run and not in the
    // other: the allowance never goes below 4 ulps of the tensor's largest value.
    const double floor = 4 * std::ldexp(1.0, std::ilogb(std::max(max_abs(want), 1e-30)) - 23);
    const double ratio = max_abs_diff(got, want) / std::max(moved, floor);
    worst = std::max(worst, ratio);
    EXPECT_LE(ratio, 0.1) << "bf16 nhwc " << spec.name;
  }
  std::printf("[train-step] bf16 all channels-last, nothing frozen: losses %.6g %.6g %.6g, nchw %.6g %.6g %.6g; "
              "worst |nhwc-nchw| / update %.3g\n",
              nhwc.losses[0], nhwc.losses[1], nhwc.losses[2], nchw.losses[0], nchw.losses[1], nchw.losses[2], worst);
}

TEST_F(CudaTrainStepTest, ABatchMarkedStagedThatWasNotIsRefused) {
  const Model m;
  ModelState<float> state = m.init;
  const TrainConfig cfg = config(1, sgd_momentum());
  CudaTrainStep step(m.g, m.plan, state, cfg);
  Tensor<float> x;
  std::vector<int32_t> labels;
  synthetic_batch(9, 0, kBatch, kSize, kClasses, x, labels);
  StepBatch batch{&x, labels, 0};
  batch.staged = true;
  EXPECT_THROW(step.run(batch, 0, kLr[0]), InternalError);
}

}  // namespace
}  // namespace thaw::cuda_test

namespace thaw::cuda_test {
namespace {

// One shard queues its update behind the backward before the host has the loss
// (CudaTrainStep::update_then_wait); a non-finite loss (here from NaN class weights) must leave
// every value, the optimizer's state and its step count as they were, as the CPU leaves them by
// not stepping: a range test returns the loss, a training run stops with the divergence error.
void check_nonfinite_loss_skips(const OptimizerConfig& oc, const std::string& tag) {
  const Model m;
  TrainConfig cfg = config(1, oc);
  cfg.class_weights.assign(kClasses, std::nanf(""));
  Tensor<float> x;
  std::vector<int32_t> labels;
  synthetic_batch(9, 0, kBatch, kSize, kClasses, x, labels);
  for (const double stop : {1.0, 0.0}) {
    cfg.stop_on_divergence = stop;
    ModelState<float> state = m.init;
    CudaTrainStep step(m.g, m.plan, state, cfg);
    if (stop > 0) {
      EXPECT_FALSE(std::isfinite(step.run({&x, labels, 0}, 0, kLr[0]))) << tag;
    } else {
      EXPECT_THROW(step.run({&x, labels, 0}, 0, kLr[0]), UserError) << tag;
    }
    EXPECT_EQ(step.device_optimizer().step_count(), 0) << tag;
    step.sync_state();
    for (int t : m.plan.trainable_tensors) {
      EXPECT_TRUE(same_bits(tag + " " + m.g.tensors[t].name, values(state.values[t]), values(m.init.values[t])));
    }
    for (const auto& [name, span] : step.optimizer().state()) {
      const bool zero = std::all_of(span.begin(), span.end(), [](float v) { return v == 0.0f; });
      EXPECT_TRUE(zero) << tag << ": optimizer state " << name << " moved";
    }
  }
}

TEST_F(CudaTrainStepTest, ANonFiniteLossLeavesTheSgdStateAsItWas) { check_nonfinite_loss_skips(sgd_momentum(), "sgd"); }
TEST_F(CudaTrainStepTest, ANonFiniteLossLeavesTheAdamWStateAsItWas) { check_nonfinite_loss_skips(adamw(), "adamw"); }

}  // namespace
}  // namespace thaw::cuda_test
