#pragma once
// --select and --patience: which epoch is a run's best by a held-out metric, and when a run stops
// early because that metric has not improved for `patience` epochs (Keras' EarlyStopping with
// min_delta 0: only a strict improvement counts, so of equal epochs the first is kept). A pure
// function of the epochs' metrics, so that every rank, and a resumed run fed the epochs before its
// stop, reach the same decisions.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "engine/train/metrics_log.h"

namespace thaw {

enum class SelectMetric { None, ValLoss, Accuracy, BalancedAccuracy, Auc };

// "val_loss", "accuracy", "balanced_accuracy", "auc"; "" is None; anything else nullopt.
std::optional<SelectMetric> parse_select_metric(std::string_view name);
std::string select_metric_name(SelectMetric m);

struct Selection {
  SelectMetric metric = SelectMetric::None;
  int64_t patience = 0;  // 0: never stop early
};

// The epoch's value of the metric; NaN where the epoch has none (no held-out data, a NaN loss).
double selected_value(const EpochResult& e, SelectMetric m);

class BestEpochTracker {
 public:
  explicit BestEpochTracker(Selection s) : s_(s) {}
  // After each epoch, in order: true when this epoch is the best so far.
  bool update(const EpochResult& e);
  // The epochs of a run before a stop, so that a resumed run goes on where it was.
  void replay(std::span<const EpochResult> before);
  // Whether `patience` epochs in a row have not improved on the best.
  bool exhausted() const { return s_.patience > 0 && since_best_ >= s_.patience; }
  int64_t best_epoch() const { return best_epoch_; }  // -1 before any epoch had a value
  double best_value() const { return best_value_; }

 private:
  Selection s_;
  int64_t best_epoch_ = -1;
  double best_value_ = 0;
  int64_t since_best_ = 0;
};

}  // namespace thaw
