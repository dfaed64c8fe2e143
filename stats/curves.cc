#include "stats/curves.h"

#include <algorithm>
#include <numeric>

#include "core/error.h"

namespace thaw {

namespace {

// Cumulative true and false positives at each distinct score, highest score first (scikit-learn's
// _binary_clf_curve).
struct Counts {
  std::vector<double> tps, fps, thresholds;
};

Counts cumulative_counts(std::span<const double> scores, std::span<const uint8_t> positive) {
  if (scores.size() != positive.size()) fail_user("curve: ", scores.size(), " scores for ", positive.size(), " labels");
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  Counts c;
  double tp = 0, fp = 0;
  for (size_t k = 0; k < order.size(); ++k) {
    (positive[order[k]] ? tp : fp) += 1;
    if (k + 1 == order.size() || scores[order[k + 1]] != scores[order[k]]) {
      c.tps.push_back(tp);
      c.fps.push_back(fp);
      c.thresholds.push_back(scores[order[k]]);
    }
  }
  return c;
}

void need_both(const Counts& c, const char* what) {
  if (c.tps.empty() || c.tps.back() == 0 || c.fps.back() == 0) {
    fail_user(what, ": needs at least one positive and one negative sample");
  }
}

}  // namespace

RocCurve roc_curve(std::span<const double> scores, std::span<const uint8_t> positive) {
  const Counts c = cumulative_counts(scores, positive);
  need_both(c, "ROC curve");
  RocCurve r;
  r.fpr.push_back(0);
  r.tpr.push_back(0);
  for (size_t k = 0; k < c.tps.size(); ++k) {
    r.fpr.push_back(c.fps[k] / c.fps.back());
    r.tpr.push_back(c.tps[k] / c.tps.back());
  }
  r.thresholds = c.thresholds;
  return r;
}

PrCurve precision_recall_curve(std::span<const double> scores, std::span<const uint8_t> positive) {
  const Counts c = cumulative_counts(scores, positive);
  need_both(c, "precision-recall curve");
  PrCurve r;
  for (size_t k = c.tps.size(); k-- > 0;) {
    const double called = c.tps[k] + c.fps[k];
    r.precision.push_back(called > 0 ? c.tps[k] / called : 0.0);
    r.recall.push_back(c.tps[k] / c.tps.back());
    r.thresholds.push_back(c.thresholds[k]);
  }
  r.precision.push_back(1);
  r.recall.push_back(0);
  for (size_t k = 0; k + 1 < r.recall.size(); ++k) r.average_precision += (r.recall[k] - r.recall[k + 1]) * r.precision[k];
  return r;
}

OperatingPoint youden_point(std::span<const double> scores, std::span<const uint8_t> positive) {
  const RocCurve r = roc_curve(scores, positive);
  OperatingPoint best;
  bool any = false;
  for (size_t k = 0; k < r.thresholds.size(); ++k) {
    const double j = r.tpr[k + 1] - r.fpr[k + 1];
    if (!any || j > best.youden_j) {  // strictly better: on a tie the earlier, higher threshold stays
      best = {r.thresholds[k], r.tpr[k + 1], 1 - r.fpr[k + 1], j};
      any = true;
    }
  }
  return best;
}

}  // namespace thaw
