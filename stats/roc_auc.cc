#include "stats/roc_auc.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/error.h"
#include "stats/proportion.h"

namespace thaw {

std::vector<double> midranks(std::span<const double> values) {
  const size_t n = values.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return values[a] < values[b] || (values[a] == values[b] && a < b);
  });
  std::vector<double> ranks(n);
  size_t i = 0;
  while (i < n) {
    size_t j = i;
    while (j + 1 < n && values[order[j + 1]] == values[order[i]]) ++j;
    // Positions i..j (0-based) hold ranks i+1..j+1; their mean is exact in double.
    const double r = 0.5 * static_cast<double>(i + j + 2);
    for (size_t t = i; t <= j; ++t) ranks[order[t]] = r;
    i = j + 1;
  }
  return ranks;
}

Placements placements(std::span<const double> scores, std::span<const uint8_t> positive) {
  THAW_CHECK(scores.size() == positive.size(), scores.size(), " vs ", positive.size());
  std::vector<double> x, y;
  for (size_t i = 0; i < scores.size(); ++i) (positive[i] ? x : y).push_back(scores[i]);
  const size_t m = x.size(), n = y.size();
  THAW_CHECK(m > 0 && n > 0, m, " positives, ", n, " negatives");
  std::vector<double> z = x;
  z.insert(z.end(), y.begin(), y.end());
  const std::vector<double> rx = midranks(x), ry = midranks(y), rz = midranks(z);
  Placements p;
  p.v10.resize(m);
  p.v01.resize(n);
  // rz - rx counts the negatives below a positive (ties half): a half-integer, exact in double.
  double below = 0;
  for (size_t i = 0; i < m; ++i) {
    p.v10[i] = (rz[i] - rx[i]) / static_cast<double>(n);
    below += rz[i] - rx[i];
  }
  for (size_t j = 0; j < n; ++j) p.v01[j] = 1.0 - (rz[m + j] - ry[j]) / static_cast<double>(m);
  p.auc = below / (static_cast<double>(m) * static_cast<double>(n));
  return p;
}

namespace {

// Sum of (a_i - mean_a)(b_i - mean_b) / (count - 1).
double sample_covariance(std::span<const double> a, double mean_a, std::span<const double> b, double mean_b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += (a[i] - mean_a) * (b[i] - mean_b);
  return s / static_cast<double>(a.size() - 1);
}

double mean(std::span<const double> v) {
  double s = 0;
  for (const double x : v) s += x;
  return s / static_cast<double>(v.size());
}

}  // namespace

AucEstimate auc_delong(std::span<const double> scores, std::span<const uint8_t> positive, double confidence) {
  AucEstimate e;
  for (const uint8_t p : positive) (p ? e.positives : e.negatives) += 1;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (e.positives == 0 || e.negatives == 0) {
    e.auc = e.se = e.lo = e.hi = nan;
    return e;
  }
  const Placements p = placements(scores, positive);
  e.auc = p.auc;
  if (e.positives < 2 || e.negatives < 2) {
    e.se = e.lo = e.hi = nan;
    return e;
  }
  const double m01 = mean(p.v01);
  const double var = sample_covariance(p.v10, p.auc, p.v10, p.auc) / static_cast<double>(e.positives) +
                     sample_covariance(p.v01, m01, p.v01, m01) / static_cast<double>(e.negatives);
  e.se = std::sqrt(var);
  const double z = normal_upper_quantile((1.0 - confidence) / 2.0);
  e.lo = std::max(0.0, e.auc - z * e.se);
  e.hi = std::min(1.0, e.auc + z * e.se);
  return e;
}

PairedAucTest delong_paired(std::span<const double> scores_a, std::span<const double> scores_b,
                            std::span<const uint8_t> positive) {
  const Placements a = placements(scores_a, positive);
  const Placements b = placements(scores_b, positive);
  const size_t m = a.v10.size(), n = a.v01.size();
  THAW_CHECK(m >= 2 && n >= 2, m, " positives, ", n, " negatives");
  const double a01 = mean(a.v01), b01 = mean(b.v01);
  const double dm = static_cast<double>(m), dn = static_cast<double>(n);
  const double var_a = sample_covariance(a.v10, a.auc, a.v10, a.auc) / dm + sample_covariance(a.v01, a01, a.v01, a01) / dn;
  const double var_b = sample_covariance(b.v10, b.auc, b.v10, b.auc) / dm + sample_covariance(b.v01, b01, b.v01, b01) / dn;
  const double cov = sample_covariance(a.v10, a.auc, b.v10, b.auc) / dm + sample_covariance(a.v01, a01, b.v01, b01) / dn;
  PairedAucTest t;
  t.auc_a = a.auc;
  t.auc_b = b.auc;
  t.difference = a.auc - b.auc;
  const double var = var_a + var_b - 2.0 * cov;
  if (!(var > 0)) {
    t.se = 0;
    t.z = std::numeric_limits<double>::quiet_NaN();
    t.p = 1.0;
    return t;
  }
  t.se = std::sqrt(var);
  t.z = t.difference / t.se;
  t.p = std::min(1.0, 2.0 * normal_upper_tail(std::fabs(t.z)));
  return t;
}

}  // namespace thaw

namespace thaw {

RankedScores::RankedScores(std::span<const double> scores, std::span<const uint8_t> positive)
    : order_(scores.size()), tie_end_(scores.size()), positive_(positive.begin(), positive.end()) {
  THAW_CHECK(scores.size() == positive.size(), scores.size(), " vs ", positive.size());
  std::iota(order_.begin(), order_.end(), size_t{0});
  std::sort(order_.begin(), order_.end(), [&](size_t a, size_t b) {
    return scores[a] < scores[b] || (scores[a] == scores[b] && a < b);
  });
  size_t i = 0;
  while (i < order_.size()) {
    size_t j = i + 1;
    while (j < order_.size() && scores[order_[j]] == scores[order_[i]]) ++j;
    for (size_t t = i; t < j; ++t) tie_end_[t] = j;
    i = j;
  }
}

double RankedScores::auc(std::span<const int32_t> weights) const {
  THAW_CHECK(weights.size() == order_.size(), weights.size(), " vs ", order_.size());
  // Integer counts: pairs won plus half the tied pairs, exact until the final division.
  int64_t negatives_below = 0, won_twice = 0, pos_total = 0;
  size_t i = 0;
  while (i < order_.size()) {
    const size_t end = tie_end_[i];
    int64_t pos = 0, neg = 0;
    for (size_t t = i; t < end; ++t) (positive_[order_[t]] ? pos : neg) += weights[order_[t]];
    won_twice += pos * (2 * negatives_below + neg);
    negatives_below += neg;
    pos_total += pos;
    i = end;
  }
  if (pos_total == 0 || negatives_below == 0) return std::numeric_limits<double>::quiet_NaN();
  return static_cast<double>(won_twice) / (2.0 * static_cast<double>(pos_total) * static_cast<double>(negatives_below));
}

}  // namespace thaw
