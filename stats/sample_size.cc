#include "stats/sample_size.h"

#include <cmath>

#include "core/error.h"
#include "stats/proportion.h"

namespace thaw {

SampleSizeMetric parse_sample_size_metric(std::string_view text, std::string_view flag) {
  if (text == "sensitivity") return SampleSizeMetric::Sensitivity;
  if (text == "specificity") return SampleSizeMetric::Specificity;
  fail_user(flag, ": expected sensitivity or specificity, got '", text, "'");
}

int64_t cases_normal(double expected, double half_width, double confidence) {
  const double z = normal_upper_quantile((1.0 - confidence) / 2.0);
  return static_cast<int64_t>(std::ceil(z * z * expected * (1.0 - expected) / (half_width * half_width)));
}

double exact_half_width(double expected, int64_t n, double confidence) {
  const double dn = static_cast<double>(n);
  const auto [lo, hi] = clopper_pearson_interval(expected * dn, dn, confidence);
  return (hi - lo) / 2.0;
}

int64_t cases_exact(double expected, double half_width, double confidence) {
  // The half-width falls with n (the expected count moves with it, so there is no rounding
  // jitter): double to bracket the answer, then bisect.
  int64_t hi = 1;
  while (exact_half_width(expected, hi, confidence) > half_width) {
    if (hi > (int64_t{1} << 40)) fail_internal("sample size search did not converge");
    hi *= 2;
  }
  int64_t lo = hi / 2;  // exact_half_width(lo) > half_width, or lo == 0
  while (hi - lo > 1) {
    const int64_t mid = lo + (hi - lo) / 2;
    (exact_half_width(expected, mid, confidence) > half_width ? lo : hi) = mid;
  }
  return hi;
}

SampleSizePlan plan_sample_size(SampleSizeMetric metric, double expected, double half_width, double prevalence,
                                double confidence) {
  if (!(expected > 0.0 && expected < 1.0)) fail_user("--expected: expected a proportion strictly between 0 and 1, got ", expected);
  if (!(half_width > 0.0 && half_width < 0.5)) fail_user("--half-width: expected a value in (0, 0.5), got ", half_width);
  const bool sens = metric == SampleSizeMetric::Sensitivity;
  if (sens && !(prevalence > 0.0 && prevalence <= 1.0)) {
    fail_user("--prevalence: expected a value in (0, 1] for sensitivity, got ", prevalence);
  }
  if (!sens && !(prevalence >= 0.0 && prevalence < 1.0)) {
    fail_user("--prevalence: expected a value in [0, 1) for specificity, got ", prevalence);
  }
  const double share = sens ? prevalence : 1.0 - prevalence;
  SampleSizePlan plan;
  plan.normal.cases = cases_normal(expected, half_width, confidence);
  plan.exact.cases = cases_exact(expected, half_width, confidence);
  const auto total = [share](int64_t cases) {
    return static_cast<int64_t>(std::ceil(static_cast<double>(cases) / share - 1e-9));
  };
  plan.normal.total = total(plan.normal.cases);
  plan.exact.total = total(plan.exact.cases);
  plan.achieved_half_width_exact = exact_half_width(expected, plan.exact.cases, confidence);
  return plan;
}

}  // namespace thaw
