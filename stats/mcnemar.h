#pragma once
// McNemar's exact test for two classifiers on the same samples: only the discordant pairs carry
// information, and under the null hypothesis each is equally likely to favour either model, so the
// smaller discordant count is Binomial(b + c, 1/2). Two-sided p = min(1, 2 * P(X <= min(b, c))),
// as statsmodels' mcnemar(table, exact=True).
#include <cstdint>
#include <span>

namespace thaw {

struct McNemarTest {
  int64_t both_correct = 0;
  int64_t only_a_correct = 0;  // b
  int64_t only_b_correct = 0;  // c
  int64_t both_wrong = 0;
  double p = 1.0;
};

double mcnemar_exact_p(int64_t only_a_correct, int64_t only_b_correct);
// `a_correct[i]`, `b_correct[i]`: whether each model got sample i right.
McNemarTest mcnemar_exact(std::span<const uint8_t> a_correct, std::span<const uint8_t> b_correct);

}  // namespace thaw
