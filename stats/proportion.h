#pragma once
// Binomial proportions with confidence intervals: Wilson's score interval (the default: close to
// nominal coverage, never outside [0, 1]) and Clopper-Pearson's exact interval (never below
// nominal, wider). Both match statsmodels' proportion_confint(method='wilson' / 'beta').
#include <cstdint>
#include <string_view>
#include <utility>

namespace thaw {

enum class CiMethod { Wilson, Exact };

// "wilson" or "exact"; anything else is a UserError naming `flag`.
CiMethod parse_ci_method(std::string_view text, std::string_view flag);
const char* ci_method_name(CiMethod m);

// The z with P(Z > z) = tail for a standard normal Z (1.959963984540054 for tail 0.025).
double normal_upper_quantile(double tail);
// P(Z > z) for a standard normal Z, accurate far into the tail.
double normal_upper_tail(double z);

struct Proportion {
  int64_t successes = 0;
  int64_t trials = 0;  // 0: the proportion is undefined and estimate, lo, hi are NaN
  double estimate = 0;
  double lo = 0;
  double hi = 0;
};

// (lo, hi) at `confidence` (e.g. 0.95); requires 0 <= successes <= trials, trials > 0.
std::pair<double, double> wilson_interval(int64_t successes, int64_t trials, double confidence);
// Takes real counts so that sample-size planning can use an expected count p * n; at 0 successes
// the lower end is 0, at successes == trials the upper end is 1.
std::pair<double, double> clopper_pearson_interval(double successes, double trials, double confidence);

Proportion proportion(int64_t successes, int64_t trials, CiMethod method, double confidence);

}  // namespace thaw
