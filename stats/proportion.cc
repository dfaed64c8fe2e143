#include "stats/proportion.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <boost/math/distributions/beta.hpp>
#include <boost/math/distributions/normal.hpp>

#include "core/error.h"

namespace thaw {

CiMethod parse_ci_method(std::string_view text, std::string_view flag) {
  if (text == "wilson") return CiMethod::Wilson;
  if (text == "exact") return CiMethod::Exact;
  fail_user(flag, ": expected wilson or exact, got '", text, "'");
}

const char* ci_method_name(CiMethod m) { return m == CiMethod::Wilson ? "wilson" : "clopper-pearson"; }

double normal_upper_quantile(double tail) {
  const boost::math::normal_distribution<double> z;
  return boost::math::quantile(boost::math::complement(z, tail));
}

double normal_upper_tail(double z) {
  const boost::math::normal_distribution<double> n;
  return boost::math::cdf(boost::math::complement(n, z));
}

std::pair<double, double> wilson_interval(int64_t successes, int64_t trials, double confidence) {
  THAW_CHECK(trials > 0 && successes >= 0 && successes <= trials, successes, " of ", trials);
  const double n = static_cast<double>(trials);
  const double p = static_cast<double>(successes) / n;
  const double z = normal_upper_quantile((1.0 - confidence) / 2.0);
  const double z2 = z * z;
  const double denom = 1.0 + z2 / n;
  const double center = (p + z2 / (2.0 * n)) / denom;
  const double half = z * std::sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n)) / denom;
  // Rounding can put an end a few ulps outside [0, 1] at 0 or n successes.
  return {std::max(0.0, center - half), std::min(1.0, center + half)};
}

std::pair<double, double> clopper_pearson_interval(double successes, double trials, double confidence) {
  THAW_CHECK(trials > 0 && successes >= 0 && successes <= trials, successes, " of ", trials);
  const double tail = (1.0 - confidence) / 2.0;
  double lo = 0.0, hi = 1.0;
  if (successes > 0) {
    const boost::math::beta_distribution<double> b(successes, trials - successes + 1.0);
    lo = boost::math::quantile(b, tail);
  }
  if (successes < trials) {
    const boost::math::beta_distribution<double> b(successes + 1.0, trials - successes);
    hi = boost::math::quantile(boost::math::complement(b, tail));
  }
  return {lo, hi};
}

Proportion proportion(int64_t successes, int64_t trials, CiMethod method, double confidence) {
  Proportion p;
  p.successes = successes;
  p.trials = trials;
  if (trials == 0) {
    p.estimate = p.lo = p.hi = std::numeric_limits<double>::quiet_NaN();
    return p;
  }
  p.estimate = static_cast<double>(successes) / static_cast<double>(trials);
  const auto [lo, hi] = method == CiMethod::Wilson
                            ? wilson_interval(successes, trials, confidence)
                            : clopper_pearson_interval(static_cast<double>(successes),
                                                       static_cast<double>(trials), confidence);
  p.lo = lo;
  p.hi = hi;
  return p;
}

}  // namespace thaw
