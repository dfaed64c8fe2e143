#include "engine/train/best_epoch.h"

#include <cmath>
#include <limits>

namespace thaw {

std::optional<SelectMetric> parse_select_metric(std::string_view name) {
  if (name.empty()) return SelectMetric::None;
  if (name == "val_loss") return SelectMetric::ValLoss;
  if (name == "accuracy") return SelectMetric::Accuracy;
  if (name == "balanced_accuracy") return SelectMetric::BalancedAccuracy;
  if (name == "auc") return SelectMetric::Auc;
  return std::nullopt;
}

std::string select_metric_name(SelectMetric m) {
  switch (m) {
    case SelectMetric::ValLoss: return "val_loss";
    case SelectMetric::Accuracy: return "accuracy";
    case SelectMetric::BalancedAccuracy: return "balanced_accuracy";
    case SelectMetric::Auc: return "auc";
    case SelectMetric::None: break;
  }
  return "";
}

double selected_value(const EpochResult& e, SelectMetric m) {
  constexpr double kNone = std::numeric_limits<double>::quiet_NaN();
  // -1 marks a metric the epoch did not compute (engine/train/metrics_log.h).
  const auto rate = [&](double v) { return v < 0 ? kNone : v; };
  switch (m) {
    case SelectMetric::ValLoss: return e.val_accuracy < 0 ? kNone : e.val_loss;
    case SelectMetric::Accuracy: return rate(e.val_accuracy);
    case SelectMetric::BalancedAccuracy: return rate(e.val_balanced_accuracy);
    case SelectMetric::Auc: return rate(e.val_auc);
    case SelectMetric::None: break;
  }
  return kNone;
}

bool BestEpochTracker::update(const EpochResult& e) {
  if (s_.metric == SelectMetric::None) return false;
  const double v = selected_value(e, s_.metric);
  const bool lower_is_better = s_.metric == SelectMetric::ValLoss;
  const bool better = !std::isnan(v) && (best_epoch_ < 0 || (lower_is_better ? v < best_value_ : v > best_value_));
  if (better) {
    best_epoch_ = e.epoch;
    best_value_ = v;
    since_best_ = 0;
  } else {
    ++since_best_;
  }
  return better;
}

void BestEpochTracker::replay(std::span<const EpochResult> before) {
  for (const EpochResult& e : before) update(e);
}

}  // namespace thaw
