// SGD against hand-computed values: every input is a short binary fraction, so every intermediate
// is exact in float and in double and the results are asserted with ==. Then against PyTorch with
// inputs that round, where the same bits show that rounding and fusing follow PyTorch's.
#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "engine/optim/optimizer.h"

namespace thaw {
namespace {

template <typename T>
class SgdTest : public ::testing::Test {};
using Types = ::testing::Types<float, double>;
TYPED_TEST_SUITE(SgdTest, Types);

constexpr std::array<double, 3> kP0 = {1, -2, 0.5};
constexpr std::array<std::array<double, 3>, 3> kGrads = {{{1, 0.5, -1}, {0.25, -1, 2}, {-0.5, 0.75, 1}}};

// Runs three steps on two copies of the same parameter, "w" (decays) and "b" (does not), with the
// gradients above, and returns both.
template <typename T>
std::array<std::vector<T>, 2> run3(const OptimizerConfig& cfg, std::array<double, 3> lrs = {0.5, 0.5, 0.5}) {
  std::vector<T> w(kP0.begin(), kP0.end()), b = w, g(3);
  Optimizer<T> opt(cfg, {{"w", w.data(), g.data(), 3, true}, {"b", b.data(), g.data(), 3, false}});
  for (int k = 0; k < 3; ++k) {
    g.assign(kGrads[k].begin(), kGrads[k].end());
    opt.step(lrs[k]);
  }
  EXPECT_EQ(opt.step_count(), 3);
  return {w, b};
}

template <typename T>
void expect_eq3(const std::vector<T>& got, std::array<double, 3> want) {
  ASSERT_EQ(got.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(got[i], static_cast<T>(want[i])) << "element " << i;
}

OptimizerConfig sgd(double momentum, bool nesterov = false, double wd = 0) {
  OptimizerConfig c;
  c.kind = OptimizerConfig::Kind::Sgd;
  c.momentum = momentum;
  c.nesterov = nesterov;
  c.weight_decay = wd;
  return c;
}

TYPED_TEST(SgdTest, Plain) {
  // p -= 0.5 g:  {1,-2,.5} -> {.5,-2.25,1} -> {.375,-1.75,0} -> {.625,-2.125,-.5}
  auto [w, b] = run3<TypeParam>(sgd(0));
  expect_eq3(w, {0.625, -2.125, -0.5});
  expect_eq3(b, {0.625, -2.125, -0.5});
}

TYPED_TEST(SgdTest, Momentum) {
  // buf1 = g1 = {1,.5,-1}, p1 = {.5,-2.25,1}
  // buf2 = .5 buf1 + g2 = {.75,-.75,1.5}, p2 = {.125,-1.875,.25}
  // buf3 = .5 buf2 + g3 = {-.125,.375,1.75}, p3 = {.1875,-2.0625,-.625}
  auto [w, b] = run3<TypeParam>(sgd(0.5));
  expect_eq3(w, {0.1875, -2.0625, -0.625});
  expect_eq3(b, {0.1875, -2.0625, -0.625});
}

TYPED_TEST(SgdTest, Nesterov) {
  // buffers as in Momentum; d = g + .5 buf:
  // d1 = {1.5,.75,-1.5}, p1 = {.25,-2.375,1.25}
  // d2 = {.625,-1.375,2.75}, p2 = {-.0625,-1.6875,-.125}
  // d3 = {-.5625,.9375,1.875}, p3 = {.21875,-2.15625,-1.0625}
  auto [w, b] = run3<TypeParam>(sgd(0.5, true));
  expect_eq3(w, {0.21875, -2.15625, -1.0625});
  expect_eq3(b, {0.21875, -2.15625, -1.0625});
}

TYPED_TEST(SgdTest, WeightDecayWithMomentum) {
  // g = grad + .25 p:
  // g1 = {1.25,0,-.875} = buf1, p1 = {.375,-2,.9375}
  // g2 = {.34375,-1.5,2.234375}, buf2 = {.96875,-1.5,1.796875}, p2 = {-.109375,-1.25,.0390625}
  // g3 = {-.52734375,.4375,1.009765625}, buf3 = {-.04296875,-.3125,1.908203125},
  // p3 = {-.087890625,-1.09375,-.9150390625}
  auto [w, b] = run3<TypeParam>(sgd(0.5, false, 0.25));
  expect_eq3(w, {-0.087890625, -1.09375, -0.9150390625});
  // decay=false: exactly the Momentum case.
  expect_eq3(b, {0.1875, -2.0625, -0.625});
}

TYPED_TEST(SgdTest, WeightDecayWithoutMomentum) {
  // p1 = {.375,-2,.9375}; g2 = {.34375,-1.5,2.234375}, p2 = {.203125,-1.25,-.1796875};
  // g3 = {-.44921875,.4375,.955078125}, p3 = {.427734375,-1.46875,-.6572265625}
  auto [w, b] = run3<TypeParam>(sgd(0, false, 0.25));
  expect_eq3(w, {0.427734375, -1.46875, -0.6572265625});
  expect_eq3(b, {0.625, -2.125, -0.5});
}

TYPED_TEST(SgdTest, NesterovWithWeightDecay) {
  // checked against torch.optim.SGD(momentum=.5, nesterov=True, weight_decay=.25, foreach=False)
  auto [w, b] = run3<TypeParam>(sgd(0.5, true, 0.25));
  expect_eq3(w, {105.0 / 4096, -139.0 / 128, -11043.0 / 8192});
  expect_eq3(b, {0.21875, -2.15625, -1.0625});
}

TYPED_TEST(SgdTest, LearningRateIsTakenPerStep) {
  // As WeightDecayWithMomentum, with lr .5, .25, .125 (PyTorch gives the same).
  auto [w, b] = run3<TypeParam>(sgd(0.5, false, 0.25), {0.5, 0.25, 0.125});
  expect_eq3(w, {535.0 / 4096, -403.0 / 256, 1931.0 / 8192});
}

TYPED_TEST(SgdTest, StateIsTheMomentumBuffer) {
  std::vector<TypeParam> w(kP0.begin(), kP0.end()), g(kGrads[0].begin(), kGrads[0].end());
  Optimizer<TypeParam> opt(sgd(0.5), {{"w", w.data(), g.data(), 3, true}});
  opt.step(0.5);
  auto state = opt.state();
  ASSERT_EQ(state.size(), 1u);
  ASSERT_TRUE(state.contains("w.momentum_buffer"));
  const auto buf = state.at("w.momentum_buffer");
  ASSERT_EQ(buf.size(), 3u);
  EXPECT_EQ(buf[0], TypeParam(1));
  EXPECT_EQ(buf[1], TypeParam(0.5));
  EXPECT_EQ(buf[2], TypeParam(-1));

  // Without momentum there is nothing to save.
  Optimizer<TypeParam> plain(sgd(0), {{"w", w.data(), g.data(), 3, true}});
  EXPECT_TRUE(plain.state().empty());
}

// Produced once by Debian's /usr/bin/python3, torch 1.13:
//   import numpy as np, torch
//   g = [[0.3, -0.6, 0.9], [-0.2, 0.4, 0.05], [0.7, -0.1, -0.35]]
//   for dt, fmt in ((torch.float64, repr), (torch.float32, lambda x: repr(np.float32(x)) + "f")):
//       w = torch.tensor([0.5, -1.25, 2.0], dtype=dt, requires_grad=True)
//       opt = torch.optim.SGD([w], lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01, foreach=False)
//       for k, lr in enumerate([0.1, 0.3, 0.07]):
//           opt.param_groups[0]["lr"] = lr
//           w.grad = torch.tensor(g[k], dtype=dt)
//           opt.step()
//       for t in (w, opt.state[w]["momentum_buffer"]):
//           print(dt, ", ".join(fmt(x) for x in t.tolist()))
template <typename T>
void check_against_torch(const std::array<T, 3>& want_w, const std::array<T, 3>& want_buf) {
  constexpr std::array<std::array<double, 3>, 3> grads = {{{0.3, -0.6, 0.9}, {-0.2, 0.4, 0.05}, {0.7, -0.1, -0.35}}};
  constexpr std::array<double, 3> lrs = {0.1, 0.3, 0.07};
  std::vector<T> w = {T(0.5), T(-1.25), T(2.0)}, g(3);
  Optimizer<T> opt(sgd(0.9, true, 0.01), {{"w", w.data(), g.data(), 3, true}});
  for (int k = 0; k < 3; ++k) {
    for (int i = 0; i < 3; ++i) g[i] = static_cast<T>(grads[k][i]);
    opt.step(lrs[k]);
  }
  const auto buf = opt.state().at("w.momentum_buffer");
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(w[i], want_w[i]) << "w[" << i << "]";
    EXPECT_EQ(buf[i], want_buf[i]) << "buf[" << i << "]";
  }
}

TEST(SgdTorchTest, DoubleMatchesPyTorch) {
  check_against_torch<double>({0.38120290028105003, -1.182202783761125, 1.5563904322411999},
                              {0.77582260315, -0.25839088337499994, 0.4722541636000001});
}

TEST(SgdTorchTest, FloatMatchesPyTorch) {
  check_against_torch<float>({0.3812029f, -1.1822028f, 1.5563905f}, {0.77582264f, -0.25839084f, 0.47225404f});
}

}  // namespace
}  // namespace thaw
