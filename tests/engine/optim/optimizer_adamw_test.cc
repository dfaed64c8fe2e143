// AdamW over three steps: against the textbook formulas evaluated here in long double, and against
// numbers PyTorch produced once (literals below).
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <vector>

#include "engine/optim/optimizer.h"

namespace thaw {
namespace {

using V3 = std::array<double, 3>;
constexpr V3 kW0 = {0.5, -1.25, 2.0};
constexpr V3 kB0 = {0.1, -0.2, 0.3};
constexpr std::array<V3, 3> kGradW = {{{0.3, -0.6, 0.9}, {-0.2, 0.4, 0.05}, {0.7, -0.1, -0.35}}};
constexpr std::array<V3, 3> kGradB = {{{-0.05, 0.02, 0.0}, {0.01, -0.03, 0.04}, {0.06, 0.0, -0.02}}};
constexpr V3 kLr = {0.01, 0.02, 0.015};
constexpr double kBeta1 = 0.8, kBeta2 = 0.95, kEps = 1e-4, kWd = 0.05;

// Produced once by Debian's /usr/bin/python3, torch 1.13:
//   import numpy as np, torch
//   gw = [[0.3, -0.6, 0.9], [-0.2, 0.4, 0.05], [0.7, -0.1, -0.35]]
//   gb = [[-0.05, 0.02, 0.0], [0.01, -0.03, 0.04], [0.06, 0.0, -0.02]]
//   for dt, fmt in ((torch.float64, repr), (torch.float32, lambda x: repr(np.float32(x)) + "f")):
//       w = torch.tensor([0.5, -1.25, 2.0], dtype=dt, requires_grad=True)
//       b = torch.tensor([0.1, -0.2, 0.3], dtype=dt, requires_grad=True)
//       opt = torch.optim.AdamW([{"params": [w]}, {"params": [b], "weight_decay": 0.0}], lr=0.01,
//                               betas=(0.8, 0.95), eps=1e-4, weight_decay=0.05, foreach=False)
//       for k, lr in enumerate([0.01, 0.02, 0.015]):
//           for g in opt.param_groups:
//               g["lr"] = lr
//           w.grad = torch.tensor(gw[k], dtype=dt)
//           b.grad = torch.tensor(gb[k], dtype=dt)
//           opt.step()
//       s = opt.state[w]
//       for t in (w, b, s["exp_avg"], s["exp_avg_sq"]):
//           print(dt, ", ".join(fmt(x) for x in t.tolist()))
template <typename T>
struct TorchReference {
  std::array<T, 3> w, b, exp_avg, exp_avg_sq;
};
constexpr TorchReference<double> kTorchDouble = {
    {0.47741157325563777, -1.233018749681645, 1.968952046341038},
    {0.11447561755995371, -0.20058363531081855, 0.28170562840075647},
    {0.14639999999999995, -0.03279999999999999, 0.053200000000000025},
    {0.030461250000000026, 0.02434500000000002, 0.042795000000000034}};
constexpr TorchReference<float> kTorchFloat = {{0.47741157f, -1.2330186f, 1.968952f},
                                               {0.11447562f, -0.20058364f, 0.28170565f},
                                               {0.1464f, -0.032800008f, 0.0532f},
                                               {0.03046125f, 0.024345001f, 0.042794995f}};

// The textbook form (bias-corrected moments, sqrt of the corrected second moment), in long double,
// starting from the inputs as rounded to T.
template <typename T>
std::array<long double, 3> reference(V3 p0, const std::array<V3, 3>& grads, double wd) {
  std::array<long double, 3> p{}, m{}, v{};
  for (int i = 0; i < 3; ++i) p[i] = static_cast<T>(p0[i]);
  const long double b1 = static_cast<T>(kBeta1), b2 = static_cast<T>(kBeta2);
  for (int t = 1; t <= 3; ++t) {
    const long double lr = kLr[t - 1];
    for (int i = 0; i < 3; ++i) {
      const long double g = static_cast<T>(grads[t - 1][i]);
      p[i] *= 1 - lr * wd;
      m[i] = b1 * m[i] + (1 - b1) * g;
      v[i] = b2 * v[i] + (1 - b2) * g * g;
      const long double m_hat = m[i] / (1 - std::pow(b1, t));
      const long double v_hat = v[i] / (1 - std::pow(b2, t));
      p[i] -= lr * m_hat / (std::sqrt(v_hat) + static_cast<long double>(static_cast<T>(kEps)));
    }
  }
  return p;
}

template <typename T>
struct AdamWRun {
  std::vector<T> w, b;
  std::vector<T> exp_avg, exp_avg_sq;
  int64_t steps;
};

template <typename T>
AdamWRun<T> run_adamw() {
  OptimizerConfig cfg;
  cfg.kind = OptimizerConfig::Kind::AdamW;
  cfg.beta1 = kBeta1;
  cfg.beta2 = kBeta2;
  cfg.eps = kEps;
  cfg.weight_decay = kWd;
  std::vector<T> w(kW0.begin(), kW0.end()), b(kB0.begin(), kB0.end()), gw(3), gb(3);
  Optimizer<T> opt(cfg, {{"w", w.data(), gw.data(), 3, true}, {"b", b.data(), gb.data(), 3, false}});
  for (int k = 0; k < 3; ++k) {
    gw.assign(kGradW[k].begin(), kGradW[k].end());
    gb.assign(kGradB[k].begin(), kGradB[k].end());
    opt.step(kLr[k]);
  }
  auto state = opt.state();
  EXPECT_EQ(state.size(), 4u);
  auto m = state.at("w.exp_avg");
  auto v = state.at("w.exp_avg_sq");
  EXPECT_TRUE(state.contains("b.exp_avg"));
  EXPECT_TRUE(state.contains("b.exp_avg_sq"));
  return {w, b, {m.begin(), m.end()}, {v.begin(), v.end()}, opt.step_count()};
}

// The same bits: the optimizer rounds and fuses exactly where PyTorch's CPU kernels do (see
// optimizer.h), and the scalars come from the same libm.
template <typename T>
void expect_same(const std::vector<T>& got, const std::array<T, 3>& want, const char* what) {
  for (int i = 0; i < 3; ++i) EXPECT_EQ(got[i], want[i]) << what << "[" << i << "]";
}

template <typename T>
void check_against_formulas(double tol) {
  const AdamWRun<T> r = run_adamw<T>();
  EXPECT_EQ(r.steps, 3);
  const auto w = reference<T>(kW0, kGradW, kWd);
  const auto b = reference<T>(kB0, kGradB, 0);  // decay=false: no decoupled decay
  for (int i = 0; i < 3; ++i) {
    EXPECT_NEAR(r.w[i], static_cast<double>(w[i]), tol) << "w[" << i << "]";
    EXPECT_NEAR(r.b[i], static_cast<double>(b[i]), tol) << "b[" << i << "]";
  }
  // The decay is visible: without it w would differ by about lr * wd * p per step.
  const auto w_undecayed = reference<T>(kW0, kGradW, 0);
  EXPECT_GT(std::abs(static_cast<double>(w[2] - w_undecayed[2])), 1e-3);
}

TEST(AdamWTest, DoubleMatchesFormulas) { check_against_formulas<double>(1e-12); }
TEST(AdamWTest, FloatMatchesFormulas) { check_against_formulas<float>(2e-6); }

TEST(AdamWTest, DoubleMatchesPyTorch) {
  const AdamWRun<double> r = run_adamw<double>();
  expect_same(r.w, kTorchDouble.w, "w");
  expect_same(r.b, kTorchDouble.b, "b");
  expect_same(r.exp_avg, kTorchDouble.exp_avg, "exp_avg");
  expect_same(r.exp_avg_sq, kTorchDouble.exp_avg_sq, "exp_avg_sq");
}

TEST(AdamWTest, FloatMatchesPyTorch) {
  const AdamWRun<float> r = run_adamw<float>();
  expect_same(r.w, kTorchFloat.w, "w");
  expect_same(r.b, kTorchFloat.b, "b");
  expect_same(r.exp_avg, kTorchFloat.exp_avg, "exp_avg");
  expect_same(r.exp_avg_sq, kTorchFloat.exp_avg_sq, "exp_avg_sq");
}

TEST(AdamWTest, ZeroGradientLeavesUndecayedParamUnchanged) {
  // m = v = 0 gives an update of exactly 0 / (0 + eps); with decay only the decoupled factor acts.
  OptimizerConfig cfg;
  cfg.kind = OptimizerConfig::Kind::AdamW;
  cfg.weight_decay = 0.5;
  std::vector<double> w = {1.5, -3}, b = {1.5, -3}, g = {0, 0};
  Optimizer<double> opt(cfg, {{"w", w.data(), g.data(), 2, true}, {"b", b.data(), g.data(), 2, false}});
  opt.step(0.25);
  EXPECT_EQ(w[0], 1.5 * 0.875);
  EXPECT_EQ(w[1], -3 * 0.875);
  EXPECT_EQ(b[0], 1.5);
  EXPECT_EQ(b[1], -3);
}

}  // namespace
}  // namespace thaw
