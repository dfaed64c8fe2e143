// The GPU step captured into a CUDA graph (TrainConfig::gpu_graph, engine/train/cuda_train_step_graph.cc)
// against the same step queued op by op: six steps at six learning rates, dropout 0.2 before the
// classifier (its key read from device memory per step), batch norm training, SGD with Nesterov
// momentum and AdamW, fp32 and bf16, and once with each next batch staged during the step before
// (two upload sides, so two graphs, each launched again). As the training loop does, each step's
// parameters are downloaded behind it and read during the next one (the graph's wait for the
// download), and before step 3 the Context's scratch area grows, which must drop the graphs and
// capture them again. Every loss, every value of the state, num_batches_tracked and the optimizer's
// state must be the same bits, and the captures must be the ones expected. A run whose optimizer
// count starts above zero (a resumed run) still takes its first step op by op, and a step with a
// bad label inside a graph is skipped on the device, refused on the host and taken back from the
// count, as op by op.
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "core/error.h"
#include "engine/data/synthetic.h"
#include "engine/train/cuda_train_step.h"
#include "graph/inception_v4.h"
#include "tests/cuda/cuda_test_util.h"
#include "tests/cuda/step_optimizers.h"

namespace thaw::cuda_test {
namespace {

constexpr int64_t kSize = 139, kBatch = 4, kClasses = 5, kSteps = 6, kGrowAt = 3;
constexpr double kLr[kSteps] = {1e-3, 5e-4, 2.5e-4, 1e-4, 2e-4, 4e-4};

using CudaGraphStepTest = CudaTest;

uint64_t double_bits(double v) { return std::bit_cast<uint64_t>(v); }

struct Outcome {
  std::vector<double> losses;
  ModelState<float> state;
  std::map<std::string, std::vector<float>> optimizer;
  int graphs = 0, captures = 0;
};

// resumed_count > 0: the host optimizer's count before the first step, as a resumed run's.
// bad_step >= 0: that step's first label is out of range (its step must throw and change nothing).
Outcome run(const Graph& g, const Plan& plan, const ModelState<float>& init, const TrainConfig& cfg, bool staged,
            int64_t resumed_count = 0, int64_t bad_step = -1) {
  Outcome o;
  o.state = init;
  CudaTrainStep step(g, plan, o.state, cfg);
  if (resumed_count > 0) step.optimizer().set_step_count(resumed_count);
  std::vector<Tensor<float>> x(kSteps);
  std::vector<std::vector<int32_t>> labels(kSteps);
  for (int64_t s = 0; s < kSteps; ++s) synthetic_batch(11, s, kBatch, kSize, kClasses, x[s], labels[s]);
  if (bad_step >= 0) labels[static_cast<size_t>(bad_step)][0] = static_cast<int32_t>(kClasses);
  for (int64_t s = 0; s < kSteps; ++s) {
    StepBatch batch{&x[s], labels[s], 0};
    batch.staged = staged && s > 0;
    const auto next = [&] {
      if (s > 0) step.sync_params();  // the last step's download, read while this one runs
      if (staged && s + 1 < kSteps) step.stage({&x[s + 1], labels[s + 1], 0});
    };
    if (s == kGrowAt) step.context().scratch(size_t{256} << 20);  // a reallocated area: new generation
    if (s == bad_step) {
      const int64_t count = step.device_optimizer().step_count();
      EXPECT_THROW(step.run_overlapping(batch, s, kLr[s], next), InternalError) << "a bad label at step " << s;
      EXPECT_EQ(step.device_optimizer().step_count(), count) << "the refused step was counted";
      o.losses.push_back(0.0);
    } else {
      o.losses.push_back(step.run_overlapping(batch, s, kLr[s], next));
    }
    step.begin_sync_params();
  }
  o.graphs = step.captured_graphs();
  o.captures = step.captures();
  step.sync_state();
  for (const auto& [name, span] : step.optimizer().state()) o.optimizer[name] = {span.begin(), span.end()};
  return o;
}

void check_graph_matches_eager(const OptimizerConfig& oc, Numerics numerics, bool staged, const std::string& tag,
                               int64_t resumed_count = 0, int64_t bad_step = -1,
                               ChannelsLast scope = ChannelsLast::off) {
  const Graph g = build_inception_v4(kSize, kClasses, 0.2);
  const Plan plan = make_plan(g, g.find_block("mixed_5e"), BnPolicy::Train);
  const ModelState<float> init = ModelState<float>::random(g, 7);
  TrainConfig cfg;
  cfg.batch_size = kBatch;
  cfg.seed = 3;
  cfg.optimizer = oc;
  cfg.numerics = numerics;
  cfg.gpu_channels_last = scope;
  cfg.schedule.base_lr = kLr[0];
  const Outcome eager = run(g, plan, init, cfg, staged, resumed_count, bad_step);
  cfg.gpu_graph = true;
  const Outcome graph = run(g, plan, init, cfg, staged, resumed_count, bad_step);
  EXPECT_EQ(eager.graphs, 0) << tag;
  // Step 0 op by op; a capture per upload side from step 1, and again from kGrowAt.
  EXPECT_EQ(graph.graphs, staged ? 2 : 1) << tag;
  EXPECT_EQ(graph.captures, staged ? 4 : 2) << tag << ": the grown area should have dropped the graphs";
  for (int64_t s = 0; s < kSteps; ++s) {
    EXPECT_EQ(double_bits(graph.losses[s]), double_bits(eager.losses[s])) << tag << " loss of step " << s;
  }
  for (size_t t = 0; t < g.tensors.size(); ++t) {
    const Tensor<float>& a = graph.state.values[t];
    EXPECT_TRUE(same_bits(tag + " " + g.tensors[t].name, {a.data(), a.data() + a.numel()},
                          {eager.state.values[t].data(), eager.state.values[t].data() + eager.state.values[t].numel()}));
  }
  EXPECT_EQ(graph.state.batches_tracked, eager.state.batches_tracked) << tag;
  ASSERT_EQ(graph.optimizer.size(), eager.optimizer.size()) << tag;
  for (const auto& [name, v] : eager.optimizer) EXPECT_TRUE(same_bits(tag + " " + name, graph.optimizer.at(name), v));
  std::printf("[graph] %s: %d capture(s) over %lld steps; losses %.6g ... %.6g, the op-by-op steps' bits\n",
              tag.c_str(), graph.captures, static_cast<long long>(kSteps), graph.losses[0], graph.losses[kSteps - 1]);
}

TEST_F(CudaGraphStepTest, SgdGraphStepsGiveTheEagerBits) {
  check_graph_matches_eager(sgd_momentum(), Numerics::Fp32, false, "sgd fp32");
}
TEST_F(CudaGraphStepTest, AdamWGraphStepsGiveTheEagerBits) {
  check_graph_matches_eager(adamw(), Numerics::Fp32, false, "adamw fp32");
}
TEST_F(CudaGraphStepTest, Bf16StagedGraphStepsGiveTheEagerBits) {
  check_graph_matches_eager(adamw(), Numerics::Bf16, true, "adamw bf16 staged");
}
TEST_F(CudaGraphStepTest, AResumedCountStillStartsOpByOp) {
  check_graph_matches_eager(sgd_momentum(), Numerics::Fp32, false, "sgd resumed at 3", 3);
}
TEST_F(CudaGraphStepTest, ABadLabelInsideAGraphChangesNothing) {
  check_graph_matches_eager(adamw(), Numerics::Fp32, false, "adamw bad label at step 2", 0, 2);
}
// Every activation channels-last: the trainable filters' [k, r, s, c] copies are made inside the
// captured step, from the values the step before updated.
TEST_F(CudaGraphStepTest, Bf16AllChannelsLastGraphStepsGiveTheEagerBits) {
  check_graph_matches_eager(adamw(), Numerics::Bf16, true, "adamw bf16 staged, all channels-last", 0, -1,
                            ChannelsLast::all);
}

}  // namespace
}  // namespace thaw::cuda_test
