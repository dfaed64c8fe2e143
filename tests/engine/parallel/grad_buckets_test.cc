// The executor's "gradient final" hook and the buckets built on it: every trainable tensor is told
// once, last layers first, with the gradient it ends with; the buckets tile the flat gradient
// from its end and come complete in order; a run's default bucket size gives several buckets.
#include "engine/parallel/grad_buckets.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "engine/model/executor.h"
#include "engine/data/synthetic.h"
#include "graph/inception_v4.h"
#include "kernels/cpu/loss.h"

namespace thaw {
namespace {

constexpr int64_t kSize = 75;
constexpr int64_t kClasses = 4;

std::vector<int64_t> sizes_of(const Graph& g, const Plan& plan) {
  std::vector<int64_t> out;
  for (int t : plan.trainable_tensors) out.push_back(shape_numel(g.tensors[static_cast<size_t>(t)].shape));
  return out;
}

TEST(GradBuckets, BackwardTellsEachFinalGradientOnceLastLayersFirst) {
  const Graph g = build_inception_v4(kSize, kClasses, 0.0);
  const Plan plan = make_plan(g, g.find_block("mixed_7c"), BnPolicy::Train);
  ModelState<float> state = ModelState<float>::random(g, 3);
  Executor<float> exec(g, plan, state);
  Tensor<float> x;
  std::vector<int32_t> labels;
  synthetic_batch(2, 0, 2, kSize, kClasses, x, labels);
  const Tensor<float>& logits = exec.forward(x, Phase::Train);
  Tensor<float> dlogits(logits.shape());
  cpu::softmax_cross_entropy<float>(2, kClasses, logits.data(), labels.data(), 0.0, nullptr, dlogits.data());

  std::vector<int> node_of(g.tensors.size(), -1);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    for (int t : g.nodes[i].tensors) node_of[static_cast<size_t>(t)] = static_cast<int>(i);
  }
  std::vector<int> told;
  std::vector<std::vector<float>> at_the_time(g.tensors.size());
  exec.set_grad_ready([&](int t) {
    told.push_back(t);
    const Tensor<float>& grad = exec.grads()[static_cast<size_t>(t)];
    at_the_time[static_cast<size_t>(t)].assign(grad.data(), grad.data() + grad.numel());
  });
  exec.backward(dlogits);
  exec.set_grad_ready(nullptr);

  ASSERT_EQ(told.size(), plan.trainable_tensors.size());
  for (int t : plan.trainable_tensors) {
    EXPECT_EQ(std::count(told.begin(), told.end(), t), 1) << g.tensors[static_cast<size_t>(t)].name;
    const Tensor<float>& grad = exec.grads()[static_cast<size_t>(t)];
    const std::vector<float>& then = at_the_time[static_cast<size_t>(t)];
    ASSERT_EQ(then.size(), static_cast<size_t>(grad.numel()));
    EXPECT_EQ(std::memcmp(then.data(), grad.data(), then.size() * sizeof(float)), 0)
        << g.tensors[static_cast<size_t>(t)].name << " changed after it was told final";
  }
  for (size_t k = 1; k < told.size(); ++k) {
    EXPECT_LE(node_of[static_cast<size_t>(told[k])], node_of[static_cast<size_t>(told[k - 1])]) << k;
  }
  // The head first: the classifier's weight is among the first told, the earliest conv last.
  EXPECT_EQ(g.nodes[static_cast<size_t>(node_of[static_cast<size_t>(told.front())])].kind, OpKind::Linear);

  // Buckets of at least 2^16 floats: complete in order 0, 1, 2, ... as backward goes.
  const std::vector<int64_t> sizes = sizes_of(g, plan);
  GradientBuckets buckets(plan.trainable_tensors, sizes, size_t{1} << 16);
  ASSERT_GT(buckets.size(), 3u);
  size_t total = 0;
  for (int64_t s : sizes) total += static_cast<size_t>(s);
  EXPECT_EQ(buckets[0].hi, total);
  EXPECT_EQ(buckets[buckets.size() - 1].lo, 0u);
  for (size_t b = 0; b + 1 < buckets.size(); ++b) {
    EXPECT_EQ(buckets[b].lo, buckets[b + 1].hi) << b;
    EXPECT_GE(buckets[b].hi - buckets[b].lo, size_t{1} << 16) << b;
  }
  std::vector<int> completed;
  for (int t : told) {
    if (const int b = buckets.ready(t); b >= 0) completed.push_back(b);
  }
  ASSERT_EQ(completed.size(), buckets.size());
  for (size_t k = 0; k < completed.size(); ++k) EXPECT_EQ(completed[k], static_cast<int>(k));
  EXPECT_THROW(buckets.ready(told.front()), InternalError);  // told twice
}

TEST(GradBuckets, TheTestRunsDefaultGivesSeveralBuckets) {
  // tests/engine/train/parallel_step_test.cc trains from mixed_7a on with the default bucket size.
  const Graph g = build_inception_v4(kSize, kClasses, 0.0);
  const Plan plan = make_plan(g, g.find_block("mixed_6h"), BnPolicy::Train);
  const GradientBuckets buckets(plan.trainable_tensors, sizes_of(g, plan), kOverlapBucketFloats);
  EXPECT_GE(buckets.size(), 8u);
  EXPECT_LE(buckets.size(), 24u);
}

}  // namespace
}  // namespace thaw
