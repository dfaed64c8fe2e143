#include "kernels/cpu/loss.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "tests/kernels/kernel_test_util.h"
#include "tests/support/gradcheck.h"

namespace thaw {
namespace {

using testkit::random_values;

TEST(CrossEntropy, HandExampleWithSmoothingAndWeights) {
  const std::vector<double> logits = {1.0, 2.0, 0.5, 0.2, -1.0, 3.0};
  const std::vector<int32_t> labels = {1, 0};
  const std::vector<double> w = {0.5, 2.0, 1.5};
  std::vector<double> d(6);
  const double loss = cpu::softmax_cross_entropy(2, 3, logits.data(), labels.data(), 0.1, w.data(), d.data());

  // The documented formula, written out: l_i = 0.9 w[y] (-log p[y]) + (0.1/3) sum_c w[c] (-log p[c]).
  double total = 0;
  for (int i = 0; i < 2; ++i) {
    const double* z = &logits[i * 3];
    const double lse = std::log(std::exp(z[0]) + std::exp(z[1]) + std::exp(z[2]));
    double smooth = 0;
    for (int c = 0; c < 3; ++c) smooth += w[c] * (lse - z[c]);
    total += 0.9 * w[labels[i]] * (lse - z[labels[i]]) + 0.1 / 3.0 * smooth;
  }
  EXPECT_NEAR(loss, total / (w[1] + w[0]), 1e-14);
  // torch.nn.functional.cross_entropy(logits, labels, weight=w, label_smoothing=0.1), float64.
  EXPECT_NEAR(loss, 1.0428804678284718, 1e-13);
  const std::vector<double> torch_grad = {0.17214648082779524,  -0.26060213714290364, 0.08845565631510842,
                                          -0.17351804589649641, -0.022706378196062835, 0.19622442409255927};
  for (int i = 0; i < 6; ++i) EXPECT_NEAR(d[i], torch_grad[i], 1e-13) << i;

  // Without weights and smoothing it is the plain mean of -log p[y] (torch: 1.6702599808789604).
  EXPECT_NEAR(cpu::softmax_cross_entropy(2, 3, logits.data(), labels.data(), 0.0, static_cast<const double*>(nullptr),
                                         static_cast<double*>(nullptr)),
              1.6702599808789604, 1e-13);
  // Float logits give the same loss to float precision.
  const auto lf = testkit::cast_vec<float>(logits), wf = testkit::cast_vec<float>(w);
  std::vector<float> df(6);
  EXPECT_NEAR(cpu::softmax_cross_entropy(2, 3, lf.data(), labels.data(), 0.1, wf.data(), df.data()), loss, 1e-6);
  for (int i = 0; i < 6; ++i) EXPECT_NEAR(df[i], d[i], 1e-6) << i;
}

struct CeCase {
  const char* name;
  double smoothing;
  bool weighted;
};

class CrossEntropyGrad : public ::testing::TestWithParam<CeCase> {};

TEST_P(CrossEntropyGrad, MatchesFiniteDifferences) {
  const int64_t n = 4, k = 5;
  std::vector<double> logits = random_values(n * k, 1, -3, 3);
  const std::vector<int32_t> labels = {3, 0, 4, 3};
  const auto weights = random_values(k, 2, 0.2, 2.0);
  const double* w = GetParam().weighted ? weights.data() : nullptr;
  std::vector<double> d(n * k);
  cpu::softmax_cross_entropy(n, k, logits.data(), labels.data(), GetParam().smoothing, w, d.data());
  auto loss = [&] {
    return cpu::softmax_cross_entropy(n, k, logits.data(), labels.data(), GetParam().smoothing, w,
                                      static_cast<double*>(nullptr));
  };
  const auto report = testkit::check_gradients(loss, {{"logits", logits, d}});
  EXPECT_TRUE(report.ok()) << report.describe();
  EXPECT_EQ(report.checked, n * k);
}

INSTANTIATE_TEST_SUITE_P(Variants, CrossEntropyGrad,
                         ::testing::Values(CeCase{"plain", 0.0, false}, CeCase{"smoothed", 0.1, false},
                                           CeCase{"weighted", 0.0, true}, CeCase{"smoothed_weighted", 0.1, true}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(Softmax, RowsAreNormalisedExponentials) {
  const int64_t n = 3, k = 4;
  const auto logits = random_values(n * k, 5, -50, 50);  // wide range: the max shift matters
  std::vector<double> p(n * k);
  cpu::softmax(n, k, logits.data(), p.data());
  for (int64_t i = 0; i < n; ++i) {
    double s = 0;
    for (int64_t c = 0; c < k; ++c) s += p[i * k + c];
    EXPECT_NEAR(s, 1.0, 1e-14);
    for (int64_t c = 1; c < k; ++c) {
      EXPECT_NEAR(std::log(p[i * k + c] / p[i * k]), logits[i * k + c] - logits[i * k], 1e-9);
    }
  }
}

}  // namespace
}  // namespace thaw
