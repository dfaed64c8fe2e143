// `thaw bench --profile`'s accounting (engine/model/step_profile.h): rows per op kind and block,
// divided by the steps profiled; the CPU executor fills every part of a step (conv fwd, dgrad and
// wgrad apart), its times add up to no more than the step's wall time, and profiling changes no bit.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <sstream>

#include "engine/data/synthetic.h"
#include "engine/model/executor.h"
#include "engine/model/step_profile.h"
#include "graph/inception_v4.h"
#include "kernels/cpu/loss.h"

namespace thaw {
namespace {

TEST(StepProfile, RowsAreSummedPerKindAndBlockAndDividedBySteps) {
  const Graph g = build_inception_v4(75, 3);
  int conv = -1, bn = -1;
  for (size_t i = 1; i < g.nodes.size() && (conv < 0 || bn < 0); ++i) {
    if (g.nodes[i].kind == OpKind::Conv && conv < 0) conv = static_cast<int>(i);
    if (g.nodes[i].kind == OpKind::BatchNorm && bn < 0) bn = static_cast<int>(i);
  }
  StepProfile p(g);
  p.add(conv, ProfilePart::Forward, 3.0);
  p.add(conv, ProfilePart::BackwardWeight, 2.0);
  p.add(bn, ProfilePart::Forward, 1.0);
  p.add_other("optimizer", 2.0);
  p.end_step();
  p.add(conv, ProfilePart::Forward, 5.0);
  p.end_step();
  EXPECT_EQ(p.steps(), 2);
  EXPECT_DOUBLE_EQ(p.kind_ms("conv fwd"), 4.0);
  EXPECT_DOUBLE_EQ(p.kind_ms("conv wgrad"), 1.0);
  EXPECT_DOUBLE_EQ(p.kind_ms("batch norm fwd"), 0.5);
  EXPECT_DOUBLE_EQ(p.kind_ms("relu fwd"), 0.0);
  EXPECT_DOUBLE_EQ(p.total_ms(), 6.5);
  const nlohmann::json j = p.to_json();
  EXPECT_DOUBLE_EQ(j["kinds"]["conv fwd"].get<double>(), 4.0);
  EXPECT_DOUBLE_EQ(j["other"]["optimizer"].get<double>(), 1.0);
  const auto& stem = j["blocks"][static_cast<size_t>(g.nodes[conv].block)];
  EXPECT_DOUBLE_EQ(stem["fwd_ms"].get<double>(), 4.5);
  EXPECT_DOUBLE_EQ(stem["bwd_ms"].get<double>(), 1.0);
  std::ostringstream os;
  p.write_report(os);
  EXPECT_NE(os.str().find("conv fwd"), std::string::npos) << os.str();
  EXPECT_NE(os.str().find(g.blocks[static_cast<size_t>(g.nodes[conv].block)].name), std::string::npos);
}

TEST(StepProfile, TheCpuExecutorTimesEveryPartAndChangesNoBit) {
  const Graph g = build_inception_v4(75, 3);
  const Plan plan = make_plan(g, g.find_block("mixed_5e"), BnPolicy::Train);
  Tensor<float> x;
  std::vector<int32_t> labels;
  synthetic_batch(2, 0, 2, 75, 3, x, labels);
  auto step = [&](StepProfile* profile, double* wall_ms) {
    ModelState<float> state = ModelState<float>::random(g, 1);
    Executor<float> exec(g, plan, state);
    exec.set_profile(profile);
    const auto t0 = std::chrono::steady_clock::now();
    const Tensor<float>& logits = exec.forward(x, Phase::Train, {});
    Tensor<float> dlogits(logits.shape());
    cpu::softmax_cross_entropy<float>(2, 3, logits.data(), labels.data(), 0.0, nullptr, dlogits.data());
    exec.backward(dlogits);
    if (wall_ms) *wall_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    return exec.grads();
  };
  StepProfile profile(g);
  double wall = 0;
  const std::vector<Tensor<float>> timed = step(&profile, &wall);
  profile.end_step();
  const std::vector<Tensor<float>> plain = step(nullptr, nullptr);
  for (int t : plan.trainable_tensors) {
    ASSERT_EQ(std::memcmp(timed[t].data(), plain[t].data(), sizeof(float) * timed[t].numel()), 0) << g.tensors[t].name;
  }
  for (const char* kind : {"conv fwd", "conv dgrad", "conv wgrad", "batch norm fwd", "batch norm bwd", "relu bwd",
                           "concat fwd", "linear fwd", "linear bwd"}) {
    EXPECT_GT(profile.kind_ms(kind), 0.0) << kind;
  }
  EXPECT_LE(profile.total_ms(), wall);
  EXPECT_GT(profile.total_ms(), 0.5 * wall) << "most of the step is inside the ops";
}

}  // namespace
}  // namespace thaw
