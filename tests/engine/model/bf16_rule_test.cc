// The bf16 rule (engine/model/mixed_precision.h) as the CPU executor emulates it: every activation,
// gradient between nodes and conv/linear weight gradient is a bf16 value, the master weights and
// batch norm's gradients stay fp32, the first convolution's output is exactly round(conv(round(x),
// round(w))), and the whole network stays near fp32 (bounds stated below). The same bits on 1 and 2
// thread ranks: tests/engine/train/parallel_step_test.cc.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <utility>
#include <vector>

#include "core/bf16.h"
#include "core/error.h"
#include "engine/data/synthetic.h"
#include "engine/model/executor.h"
#include "engine/model/mixed_precision.h"
#include "graph/inception_v4.h"
#include "graph/node_geometry.h"
#include "kernels/cpu/conv2d.h"
#include "kernels/cpu/loss.h"

namespace thaw {
namespace {

constexpr int64_t kSize = 75, kClasses = 5, kBatch = 2;

bool all_bf16(const Tensor<float>& t) {
  for (int64_t i = 0; i < t.numel(); ++i) {
    if (!is_bf16(t[i])) return false;
  }
  return true;
}

struct Pass {
  Tensor<float> logits;
  std::vector<Tensor<float>> grads;
};

// One forward (Train) and backward of the loss of a fixed batch.
Pass run_once(const Graph& g, const Plan& plan, ModelState<float>& state, bool bf16,
              std::vector<std::pair<int, bool>>* kept_bf16 = nullptr) {
  Executor<float> exec(g, plan, state);
  exec.set_bf16(bf16);
  Tensor<float> x;
  std::vector<int32_t> labels;
  synthetic_batch(3, 0, kBatch, kSize, kClasses, x, labels);
  Pass p;
  p.logits = exec.forward(x, Phase::Train, {7, 0, 0});
  if (kept_bf16) {
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      const Tensor<float>& o = exec.output(static_cast<int>(i));
      if (!o.empty()) kept_bf16->push_back({static_cast<int>(i), all_bf16(o)});
    }
  }
  Tensor<float> dlogits(p.logits.shape());
  cpu::softmax_cross_entropy<float>(kBatch, kClasses, p.logits.data(), labels.data(), 0.0, nullptr, dlogits.data());
  exec.backward(dlogits);
  p.grads = exec.grads();
  return p;
}

TEST(Bf16Rule, ActivationsAndWeightGradientsAreBf16MasterWeightsAndBatchNormAreNot) {
  const Graph g = build_inception_v4(kSize, kClasses);
  const Plan plan = make_plan(g, g.find_block("mixed_6h"), BnPolicy::Train);
  ModelState<float> state = ModelState<float>::random(g, 4);
  const ModelState<float> before = state;
  std::vector<std::pair<int, bool>> kept;
  const Pass p = run_once(g, plan, state, true, &kept);
  EXPECT_TRUE(all_bf16(p.logits));
  ASSERT_GT(kept.size(), 10u);
  for (const auto& [node, bf16] : kept) EXPECT_TRUE(bf16) << "output of " << g.nodes[node].name;
  int bn_not_bf16 = 0;
  for (int t : plan.trainable_tensors) {
    const Tensor<float>& grad = p.grads[t];
    const std::string& name = g.tensors[t].name;
    const bool batch_norm = name.find(".bn.") != std::string::npos;
    if (batch_norm) {
      bn_not_bf16 += !all_bf16(grad);
    } else {
      EXPECT_TRUE(all_bf16(grad)) << name;
    }
  }
  EXPECT_GT(bn_not_bf16, 0) << "batch norm's gradients are fp32 sums, seldom all bf16";
  // The forward read working copies: the master values are untouched, and are fp32.
  bool master_fp32 = false;
  for (size_t t = 0; t < g.tensors.size(); ++t) {
    const TensorRole role = g.tensors[t].role;
    if (role == TensorRole::RunningMean || role == TensorRole::RunningVar || role == TensorRole::NumBatchesTracked) continue;
    ASSERT_EQ(std::memcmp(state.values[t].data(), before.values[t].data(), sizeof(float) * state.values[t].numel()), 0)
        << g.tensors[t].name;
    master_fp32 = master_fp32 || !all_bf16(state.values[t]);
  }
  EXPECT_TRUE(master_fp32);
}

TEST(Bf16Rule, TheFirstConvolutionIsRoundedConvOfRoundedOperands) {
  const Graph g = build_inception_v4(kSize, kClasses);
  const Plan plan = make_plan(g, -1, BnPolicy::Train);  // everything trains: the conv's output is kept
  ModelState<float> state = ModelState<float>::random(g, 4);
  Executor<float> exec(g, plan, state);
  exec.set_bf16(true);
  Tensor<float> x;
  std::vector<int32_t> labels;
  synthetic_batch(3, 0, kBatch, kSize, kClasses, x, labels);
  exec.forward(x, Phase::Train, {});
  const int conv = 1;
  ASSERT_EQ(g.nodes[conv].kind, OpKind::Conv);
  Tensor<float> xr = x, wr = state.values[g.nodes[conv].tensors[0]];
  round_to_bf16(xr.data(), xr.numel());
  round_to_bf16(wr.data(), wr.numel());
  const Tensor<float>& got = exec.output(conv);
  Tensor<float> want(got.shape());
  cpu::conv2d_forward(conv_geom(g.nodes[conv], g.nodes[0].out, kBatch), xr.data(), wr.data(), want.data());
  round_to_bf16(want.data(), want.numel());
  ASSERT_EQ(got.numel(), want.numel());
  EXPECT_EQ(std::memcmp(got.data(), want.data(), sizeof(float) * got.numel()), 0);
  // And rounding mattered: the fp32 conv of the unrounded operands differs.
  Tensor<float> fp32(got.shape());
  cpu::conv2d_forward(conv_geom(g.nodes[conv], g.nodes[0].out, kBatch), x.data(), state.values[g.nodes[conv].tensors[0]].data(), fp32.data());
  EXPECT_NE(std::memcmp(got.data(), fp32.data(), sizeof(float) * got.numel()), 0);
}

double cosine(const std::vector<Tensor<float>>& a, const std::vector<Tensor<float>>& b, const std::vector<int>& ts) {
  double ab = 0, aa = 0, bb = 0;
  for (int t : ts) {
    for (int64_t i = 0; i < a[t].numel(); ++i) {
      ab += static_cast<double>(a[t][i]) * b[t][i];
      aa += static_cast<double>(a[t][i]) * a[t][i];
      bb += static_cast<double>(b[t][i]) * b[t][i];
    }
  }
  return ab / std::sqrt(aa * bb);
}

TEST(Bf16Rule, TheWholeNetworkStaysNearFp32) {
  const Graph g = build_inception_v4(kSize, kClasses);
  // Running statistics: with batch statistics over the two values per channel that the 1x1 maps
  // of the last blocks give at batch 2, any rounding (fp32 against fp64 too) decides a sign.
  const Plan plan = make_plan(g, g.find_block("mixed_5e"), BnPolicy::Frozen);
  ModelState<float> s32 = ModelState<float>::random(g, 4), s16 = s32;
  const Pass f = run_once(g, plan, s32, false);
  const Pass h = run_once(g, plan, s16, true);
  double max_diff = 0, max_abs = 0;
  for (int64_t i = 0; i < f.logits.numel(); ++i) {
    max_diff = std::max(max_diff, std::fabs(static_cast<double>(f.logits[i]) - h.logits[i]));
    max_abs = std::max(max_abs, std::fabs(static_cast<double>(f.logits[i])));
  }
  const double cos = cosine(f.grads, h.grads, plan.trainable_tensors);
  std::printf("bf16 vs fp32 at %lld px: logits max |diff| %.3g of max |logit| %.3g; gradient cosine %.6f\n",
              static_cast<long long>(kSize), max_diff, max_abs, cos);
  // bf16 keeps 8 significant bits (relative rounding error 2^-9 per value); a hundred layers of it
  // stay within a few percent of the logits' scale and keep the gradient's direction.
  EXPECT_LT(max_diff, 0.05 * max_abs);
  EXPECT_GT(max_diff, 0.0);
  EXPECT_GT(cos, 0.99);
}

TEST(Bf16Rule, OnlyEmulatedInFloat) {
  const Graph g = build_inception_v4(kSize, kClasses);
  const Plan plan = make_plan(g, -1, BnPolicy::Train);
  ModelState<double> state = ModelState<double>::random(g, 4);
  Executor<double> exec(g, plan, state);
  EXPECT_THROW(exec.set_bf16(true), InternalError);
  exec.set_bf16(false);
}

TEST(Bf16Rule, PrecisionNames) {
  for (const Numerics n : {Numerics::Fp32, Numerics::Tf32, Numerics::Bf16}) EXPECT_EQ(parse_numerics(numerics_name(n)), n);
  EXPECT_THROW(parse_numerics("fp16"), UserError);
}

}  // namespace
}  // namespace thaw
