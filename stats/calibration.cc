#include "stats/calibration.h"

#include <cmath>

#include "core/error.h"

namespace thaw {

Reliability reliability(std::span<const double> probability, std::span<const uint8_t> happened, int bins) {
  if (bins < 1) fail_user("--bins: expected at least 1 bin, got ", bins);
  if (probability.empty() || probability.size() != happened.size()) {
    fail_user("reliability: expected as many outcomes as probabilities (and some), got ", probability.size(), " and ",
              happened.size());
  }
  const double step = 1.0 / bins;
  std::vector<int64_t> count(static_cast<size_t>(bins), 0);
  std::vector<double> sum_p(static_cast<size_t>(bins), 0), sum_y(static_cast<size_t>(bins), 0);
  for (size_t i = 0; i < probability.size(); ++i) {
    // numpy.searchsorted(inner_edges, p) with side "left": the number of inner edges below p.
    int b = 0;
    while (b + 1 < bins && (b + 1) * step < probability[i]) ++b;
    ++count[static_cast<size_t>(b)];
    sum_p[static_cast<size_t>(b)] += probability[i];
    sum_y[static_cast<size_t>(b)] += happened[i] ? 1.0 : 0.0;
  }
  Reliability r;
  r.bins = bins;
  const double n = static_cast<double>(probability.size());
  for (int b = 0; b < bins; ++b) {
    if (count[static_cast<size_t>(b)] == 0) continue;
    ReliabilityBin x;
    x.lo = b * step;
    x.hi = b + 1 == bins ? 1.0 : (b + 1) * step;
    x.count = count[static_cast<size_t>(b)];
    x.mean_predicted = sum_p[static_cast<size_t>(b)] / static_cast<double>(x.count);
    x.observed = sum_y[static_cast<size_t>(b)] / static_cast<double>(x.count);
    r.ece += static_cast<double>(x.count) / n * std::abs(x.observed - x.mean_predicted);
    r.table.push_back(x);
  }
  return r;
}

double brier_score(std::span<const double> probability, std::span<const uint8_t> happened) {
  if (probability.empty() || probability.size() != happened.size()) fail_user("Brier score: no samples");
  double s = 0;
  for (size_t i = 0; i < probability.size(); ++i) {
    const double d = probability[i] - (happened[i] ? 1.0 : 0.0);
    s += d * d;
  }
  return s / static_cast<double>(probability.size());
}

double multiclass_brier(const Predictions& p) {
  if (p.size() == 0) fail_user(p.source, ": no samples for the Brier score");
  double s = 0;
  for (int64_t i = 0; i < p.size(); ++i) {
    for (int c = 0; c < p.num_classes(); ++c) {
      const double d = p.prob(i, c) - (p.labels[static_cast<size_t>(i)] == c ? 1.0 : 0.0);
      s += d * d;
    }
  }
  return s / static_cast<double>(p.size());
}

std::vector<double> top_probability(const Predictions& p) {
  std::vector<double> out(static_cast<size_t>(p.size()));
  for (int64_t i = 0; i < p.size(); ++i) {
    double m = p.prob(i, 0);
    for (int c = 1; c < p.num_classes(); ++c) m = std::max(m, p.prob(i, c));
    out[static_cast<size_t>(i)] = m;
  }
  return out;
}

std::vector<uint8_t> prediction_correct(const Predictions& p) {
  std::vector<uint8_t> out(static_cast<size_t>(p.size()));
  for (int64_t i = 0; i < p.size(); ++i) out[static_cast<size_t>(i)] = p.predicted[static_cast<size_t>(i)] == p.labels[static_cast<size_t>(i)];
  return out;
}

}  // namespace thaw
