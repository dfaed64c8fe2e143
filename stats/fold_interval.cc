#include "stats/fold_interval.h"

#include <cmath>

#include <boost/math/distributions/students_t.hpp>

#include "core/error.h"

namespace thaw {

namespace {

struct MeanVar {
  double mean = 0, var = 0;
};

MeanVar mean_var(const std::vector<double>& v) {
  if (v.size() < 2) fail_user("a k-fold summary needs at least 2 folds, got ", v.size());
  MeanVar m;
  for (double x : v) m.mean += x;
  m.mean /= static_cast<double>(v.size());
  for (double x : v) m.var += (x - m.mean) * (x - m.mean);
  m.var /= static_cast<double>(v.size() - 1);
  return m;
}

double corrected_se(const MeanVar& m, size_t k, double test_to_train) {
  return std::sqrt((1.0 / static_cast<double>(k) + test_to_train) * m.var);
}

}  // namespace

FoldSummary corrected_fold_interval(const std::vector<double>& values, double test_to_train, double confidence) {
  const MeanVar m = mean_var(values);
  FoldSummary s;
  s.folds = static_cast<int>(values.size());
  s.mean = m.mean;
  s.sd = std::sqrt(m.var);
  const boost::math::students_t t(static_cast<double>(values.size() - 1));
  const double half = boost::math::quantile(t, 0.5 + confidence / 2) * corrected_se(m, values.size(), test_to_train);
  s.lo = m.mean - half;
  s.hi = m.mean + half;
  return s;
}

std::optional<double> corrected_paired_t_p(const std::vector<double>& differences, double test_to_train) {
  const MeanVar m = mean_var(differences);
  const double se = corrected_se(m, differences.size(), test_to_train);
  if (!(se > 0)) return std::nullopt;
  const boost::math::students_t t(static_cast<double>(differences.size() - 1));
  return 2 * boost::math::cdf(boost::math::complement(t, std::abs(m.mean / se)));
}

}  // namespace thaw
