// Freezing: what trains, what stays bit-for-bit, what the plan keeps, and that a frozen front
// changes no trainable gradient.
#include <gtest/gtest.h>

#include "tests/support/same_bytes.h"

#include <cstring>
#include <omp.h>

#include "engine/model/executor.h"
#include "engine/optim/param_refs.h"
#include "engine/optim/optimizer.h"
#include "engine/data/synthetic.h"
#include "graph/inception_v4.h"
#include "kernels/cpu/loss.h"

namespace thaw {
namespace {

const char* kFreezePoints[] = {"none", "mixed_5e", "mixed_6a", "mixed_6h", "mixed_7d"};

TEST(Freeze, TrainableParameterCountsMatchTimm) {
  const Graph g = build_inception_v4(299, 1000);
  // From shared/reference/inception_v4_blocks.md ("trainable params after").
  const int64_t expected[] = {42'679'816, 40'803'560, 38'497'448, 17'943'656, 1'537'000};
  for (size_t i = 0; i < std::size(kFreezePoints); ++i) {
    const Plan p = make_plan(g, g.find_block(kFreezePoints[i]), BnPolicy::Train);
    EXPECT_EQ(p.trainable_parameter_count(g), expected[i]) << kFreezePoints[i];
  }
}

TEST(Freeze, KeptActivationsShrinkAsTheFreezePointMovesDeeper) {
  const Graph g = build_inception_v4(299, 1000);
  int64_t previous = INT64_MAX;
  for (const char* fp : kFreezePoints) {
    const int64_t kept = make_plan(g, g.find_block(fp), BnPolicy::Train).kept_bytes_per_sample(g, 4);
    EXPECT_LT(kept, previous) << fp;
    EXPECT_GT(kept, 0) << fp;
    previous = kept;
  }
}

// Runs `steps` SGD steps on synthetic data and returns the final state.
ModelState<float> train_steps(const Graph& g, const std::string& freeze, BnPolicy bn, int steps, int threads) {
  omp_set_num_threads(threads);
  ModelState<float> state = ModelState<float>::random(g, 3);
  const Plan plan = make_plan(g, g.find_block(freeze), bn);
  Executor<float> exec(g, plan, state);
  const std::vector<ParamRef<float>> refs = trainable_param_refs(g, plan, state, exec);
  OptimizerConfig oc;
  oc.weight_decay = 1e-4;
  Optimizer<float> opt(oc, refs);
  Tensor<float> x, dlogits;
  std::vector<int32_t> labels;
  for (int s = 0; s < steps; ++s) {
    synthetic_batch(9, s, 4, g.input_size, g.num_classes, x, labels);
    const Tensor<float>& logits = exec.forward(x, Phase::Train, {9, s, 0});
    dlogits.reshape_uninit(logits.shape());
    cpu::softmax_cross_entropy<float>(4, g.num_classes, logits.data(), labels.data(), 0.0, nullptr, dlogits.data());
    exec.backward(dlogits);
    opt.step(0.01);
  }
  return state;
}

bool same_bits(const Tensor<float>& a, const Tensor<float>& b) {
  return a.shape() == b.shape() && testkit::same_bytes(a.data(), b.data(), sizeof(float) * a.numel());
}

TEST(Freeze, FrozenTensorsUnchangedTrainableOnesMove) {
  const Graph g = build_inception_v4(75, 5);
  const ModelState<float> before = ModelState<float>::random(g, 3);
  const ModelState<float> after = train_steps(g, "mixed_6a", BnPolicy::Train, 2, 2);
  const int boundary = g.find_block("mixed_6a");
  int moved = 0;
  for (size_t t = 0; t < g.tensors.size(); ++t) {
    const TensorSpec& spec = g.tensors[t];
    const bool frozen = g.nodes[spec.node].block <= boundary;
    if (spec.role == TensorRole::NumBatchesTracked) {
      EXPECT_EQ(after.batches_tracked[t], frozen ? 0 : 2) << spec.name;
      continue;
    }
    if (frozen) {
      EXPECT_TRUE(same_bits(before.values[t], after.values[t])) << spec.name << " changed while frozen";
    } else if (spec.role == TensorRole::Weight || spec.role == TensorRole::RunningMean) {
      moved += !same_bits(before.values[t], after.values[t]);
    }
  }
  EXPECT_GT(moved, 100);
}

TEST(Freeze, TrainableGradientsEqualThoseOfAFullBackward) {
  // With running statistics everywhere the frozen front computes the same function either way,
  // so every trainable gradient must come out bit for bit the same.
  const Graph g = build_inception_v4(75, 4);
  ModelState<float> s_full = ModelState<float>::random(g, 8);
  ModelState<float> s_frozen = ModelState<float>::random(g, 8);
  const Plan full = make_plan(g, -1, BnPolicy::Frozen);
  const Plan part = make_plan(g, g.find_block("mixed_6a"), BnPolicy::Frozen);
  Executor<float> e_full(g, full, s_full), e_part(g, part, s_frozen);
  Tensor<float> x, d1, d2;
  std::vector<int32_t> labels;
  synthetic_batch(2, 0, 3, 75, 4, x, labels);
  for (auto [e, d] : {std::pair{&e_full, &d1}, std::pair{&e_part, &d2}}) {
    const Tensor<float>& logits = e->forward(x, Phase::Train);
    d->reshape_uninit(logits.shape());
    cpu::softmax_cross_entropy<float>(3, 4, logits.data(), labels.data(), 0.0, nullptr, d->data());
    e->backward(*d);
  }
  ASSERT_TRUE(same_bits(d1, d2));
  EXPECT_LT(part.trainable_tensors.size(), full.trainable_tensors.size());
  for (int t : part.trainable_tensors) {
    EXPECT_TRUE(same_bits(e_full.grads()[t], e_part.grads()[t])) << g.tensors[t].name;
  }
  // Frozen tensors have no gradient buffer at all.
  EXPECT_TRUE(e_part.grads()[g.find_tensor("features.0.conv.weight")].empty());
}

TEST(Determinism, SameStepsSameBitsAnyThreadCount) {
  const Graph g = build_inception_v4(75, 5);
  const ModelState<float> a = train_steps(g, "mixed_5e", BnPolicy::Train, 2, 1);
  const ModelState<float> b = train_steps(g, "mixed_5e", BnPolicy::Train, 2, 2);
  const ModelState<float> c = train_steps(g, "mixed_5e", BnPolicy::Train, 2, 2);
  for (size_t t = 0; t < g.tensors.size(); ++t) {
    EXPECT_TRUE(same_bits(a.values[t], b.values[t])) << g.tensors[t].name << " differs between 1 and 2 threads";
    EXPECT_TRUE(same_bits(b.values[t], c.values[t])) << g.tensors[t].name << " differs between two runs";
  }
}

}  // namespace
}  // namespace thaw
