// The whole Inception v4 backward pass against central differences, in double, at the smallest
// input size, on a sample of parameters spread over every kind of block.
#include <gtest/gtest.h>

#include <vector>

#include "core/philox.h"
#include "engine/model/executor.h"
#include "graph/inception_v4.h"
#include "kernels/cpu/loss.h"
#include "tests/support/gradcheck.h"

namespace thaw {
namespace {

struct Fixture {
  Graph g;
  ModelState<double> state;
  Tensor<double> x;
  std::vector<int32_t> labels;

  Fixture(int64_t size, int64_t batch, int64_t classes) : g(build_inception_v4(size, classes)) {
    state = ModelState<double>::random(g, 11);
    // Non-trivial batch-norm affine parameters and running statistics, so each enters the check.
    for (size_t t = 0; t < g.tensors.size(); ++t) {
      const CounterRng rng(5, RngPurpose::Synthetic, 1, static_cast<uint32_t>(t));
      Tensor<double>& v = state.values[t];
      switch (g.tensors[t].role) {
        case TensorRole::BnWeight: for (int64_t i = 0; i < v.numel(); ++i) v[i] = 0.5 + rng.uniform_double_at(i); break;
        case TensorRole::BnBias: for (int64_t i = 0; i < v.numel(); ++i) v[i] = 0.2 * rng.normal_at(i); break;
        case TensorRole::RunningMean: for (int64_t i = 0; i < v.numel(); ++i) v[i] = 0.1 * rng.normal_at(i); break;
        case TensorRole::RunningVar: for (int64_t i = 0; i < v.numel(); ++i) v[i] = 0.5 + rng.uniform_double_at(i); break;
        default: break;
      }
    }
    x = Tensor<double>({batch, 3, size, size});
    const CounterRng rng(3, RngPurpose::Synthetic, 0, 0);
    for (int64_t i = 0; i < x.numel(); ++i) x[i] = 2 * rng.uniform_double_at(i) - 1;
    for (int64_t s = 0; s < batch; ++s) labels.push_back(static_cast<int32_t>(s % classes));
  }
};

void check_network(BnPolicy bn, int64_t size, int64_t batch, const std::string& freeze, double step,
                   double threshold) {
  Fixture f(size, batch, 3);
  const Plan plan = make_plan(f.g, f.g.find_block(freeze), bn);
  Executor<double> exec(f.g, plan, f.state);
  Tensor<double> dlogits;
  auto loss = [&]() {
    const Tensor<double>& logits = exec.forward(f.x, Phase::Train);
    dlogits.reshape_uninit(logits.shape());
    return cpu::softmax_cross_entropy<double>(batch, 3, logits.data(), f.labels.data(), 0.1, nullptr, dlogits.data());
  };
  loss();
  exec.backward(dlogits);
  // Copy the analytic gradients: the checker's loss() calls run forward again.
  std::vector<std::vector<double>> analytic;
  std::vector<testkit::GradInput> inputs;
  const char* names[] = {"features.0.conv.weight",          "features.2.bn.weight",
                         "features.3.conv.conv.weight",     "features.4.branch1.1.conv.weight",
                         "features.5.conv.bn.bias",         "features.6.branch3.1.conv.weight",
                         "features.10.branch1.2.conv.weight", "features.11.branch2.3.conv.weight",
                         "features.18.branch1.3.bn.weight", "features.19.branch1_1b.conv.weight",
                         "features.21.branch2_3a.bn.bias",  "last_linear.weight",
                         "last_linear.bias"};
  analytic.reserve(std::size(names));
  for (const char* name : names) {
    const int t = f.g.find_tensor(name);
    ASSERT_GE(t, 0) << name;
    if (!plan.trainable[f.g.tensors[t].node]) continue;
    analytic.emplace_back(exec.grads()[t].span().begin(), exec.grads()[t].span().end());
    inputs.push_back({name, f.state.values[t].span(), analytic.back()});
  }
  ASSERT_FALSE(inputs.empty());
  testkit::GradCheckOptions opt;
  opt.step = step;
  opt.threshold = threshold;
  opt.max_per_tensor = 1;
  const testkit::GradCheckReport rep = testkit::check_gradients(loss, inputs, opt);
  EXPECT_TRUE(rep.ok()) << rep.describe();
  EXPECT_GE(rep.checked, static_cast<int64_t>(inputs.size()));
}

// Batch statistics make the loss strongly curved in the early weights (every later batch norm
// renormalises by statistics of a dozen values), so the central difference needs a tiny step:
// for features.0.conv.weight[613] at this size it reads -22.6, -92.8, -108.5, -109.08, -108.83783
// for h = 1e-3 .. 1e-8 against the analytic -108.83782. Double precision keeps h = 1e-8 clean;
// what curvature is left reaches 3e-5 relative, hence the 1e-4 threshold (a wrong gradient is off
// by O(1)).
// At 75 the last blocks are 1x1 (two values per channel with a batch of 2), so 107 with a batch of
// 3 (12 values per channel) is the smallest well-posed case.
TEST(NetworkGradient, WholeGraphBatchStatistics) { check_network(BnPolicy::Train, 107, 3, "none", 1e-8, 1e-4); }

TEST(NetworkGradient, FrozenFrontBatchStatistics) { check_network(BnPolicy::Train, 107, 3, "mixed_5e", 1e-8, 1e-4); }

TEST(NetworkGradient, WholeGraphRunningStatistics) { check_network(BnPolicy::Frozen, 75, 1, "none", 1e-5, 1e-5); }

}  // namespace
}  // namespace thaw
