#include "stats/mcnemar.h"

#include <algorithm>

#include <boost/math/distributions/binomial.hpp>

#include "core/error.h"

namespace thaw {

double mcnemar_exact_p(int64_t only_a_correct, int64_t only_b_correct) {
  const int64_t n = only_a_correct + only_b_correct;
  if (n == 0) return 1.0;
  const boost::math::binomial_distribution<double> d(static_cast<double>(n), 0.5);
  const double k = static_cast<double>(std::min(only_a_correct, only_b_correct));
  return std::min(1.0, 2.0 * boost::math::cdf(d, k));
}

McNemarTest mcnemar_exact(std::span<const uint8_t> a_correct, std::span<const uint8_t> b_correct) {
  THAW_CHECK(a_correct.size() == b_correct.size(), a_correct.size(), " vs ", b_correct.size());
  McNemarTest t;
  for (size_t i = 0; i < a_correct.size(); ++i) {
    if (a_correct[i] && b_correct[i]) {
      ++t.both_correct;
    } else if (a_correct[i]) {
      ++t.only_a_correct;
    } else if (b_correct[i]) {
      ++t.only_b_correct;
    } else {
      ++t.both_wrong;
    }
  }
  t.p = mcnemar_exact_p(t.only_a_correct, t.only_b_correct);
  return t;
}

}  // namespace thaw
