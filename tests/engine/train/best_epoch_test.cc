// --select / --patience on planted metric sequences: which epoch is best, when the run stops, and
// that a resumed run fed the epochs before its stop decides the same.
#include "engine/train/best_epoch.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace thaw {
namespace {

std::vector<EpochResult> epochs_with_loss(const std::vector<double>& losses) {
  std::vector<EpochResult> out;
  for (size_t i = 0; i < losses.size(); ++i) {
    EpochResult e;
    e.epoch = static_cast<int64_t>(i);
    e.val_loss = losses[i];
    e.val_accuracy = 1.0 - losses[i] / 10;
    out.push_back(e);
  }
  return out;
}

// Which epochs were best as they came, and after which one the run stops (-1: never).
struct Outcome {
  std::vector<int64_t> best;
  int64_t stop_after = -1;
};
Outcome run(Selection s, const std::vector<EpochResult>& epochs) {
  BestEpochTracker t(s);
  Outcome o;
  for (const EpochResult& e : epochs) {
    if (t.update(e)) o.best.push_back(e.epoch);
    if (t.exhausted()) {
      o.stop_after = e.epoch;
      break;
    }
  }
  return o;
}

TEST(BestEpoch, LowestLossWinsAndTiesKeepTheFirst) {
  const auto epochs = epochs_with_loss({0.9, 0.7, 0.7, 0.8, 0.5, 0.6});
  const Outcome o = run({SelectMetric::ValLoss, 0}, epochs);
  EXPECT_EQ(o.best, (std::vector<int64_t>{0, 1, 4}));
  EXPECT_EQ(o.stop_after, -1);
}

TEST(BestEpoch, PatienceCountsEpochsWithoutStrictImprovement) {
  // Best at epoch 1; 2 (a tie) and 3 do not improve: with patience 2 the run stops after epoch 3.
  const auto epochs = epochs_with_loss({0.9, 0.7, 0.7, 0.8, 0.5, 0.6});
  EXPECT_EQ(run({SelectMetric::ValLoss, 2}, epochs).stop_after, 3);
  EXPECT_EQ(run({SelectMetric::ValLoss, 3}, epochs).stop_after, -1);
  EXPECT_EQ(run({SelectMetric::ValLoss, 1}, epochs).stop_after, 2);
}

TEST(BestEpoch, RatesAreMaximisedAndMissingValuesNeverWin) {
  auto epochs = epochs_with_loss({0.9, 0.7, 0.8});
  for (EpochResult& e : epochs) e.val_balanced_accuracy = 0.5;
  epochs[2].val_balanced_accuracy = 0.75;
  epochs[1].val_auc = 0.6;  // the others did not compute it (-1)
  EXPECT_EQ(run({SelectMetric::Accuracy, 0}, epochs).best, (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(run({SelectMetric::BalancedAccuracy, 0}, epochs).best, (std::vector<int64_t>{0, 2}));
  EXPECT_EQ(run({SelectMetric::Auc, 0}, epochs).best, (std::vector<int64_t>{1}));
  epochs[0].val_loss = std::numeric_limits<double>::quiet_NaN();  // a diverged epoch is never best
  EXPECT_EQ(run({SelectMetric::ValLoss, 0}, epochs).best, (std::vector<int64_t>{1}));
  EXPECT_EQ(run({SelectMetric::None, 1}, epochs).best, (std::vector<int64_t>{}));
}

TEST(BestEpoch, AResumedRunFedTheEpochsBeforeItsStopDecidesTheSame) {
  const auto epochs = epochs_with_loss({0.9, 0.7, 0.8, 0.6, 0.65, 0.66, 0.5});
  const Selection s{SelectMetric::ValLoss, 2};
  const Outcome whole = run(s, epochs);
  for (size_t cut = 0; cut <= 4; ++cut) {
    BestEpochTracker t(s);
    t.replay({epochs.data(), cut});
    int64_t stop = -1;
    for (size_t i = cut; i < epochs.size() && stop < 0; ++i) {
      t.update(epochs[i]);
      if (t.exhausted()) stop = epochs[i].epoch;
    }
    EXPECT_EQ(stop, whole.stop_after) << "resumed at epoch " << cut;
    EXPECT_EQ(t.best_epoch(), 3) << "resumed at epoch " << cut;
  }
  EXPECT_EQ(whole.stop_after, 5);  // best at 3, then 4 and 5 without improvement
}

TEST(BestEpoch, MetricNamesParseBothWays) {
  for (SelectMetric m : {SelectMetric::ValLoss, SelectMetric::Accuracy, SelectMetric::BalancedAccuracy, SelectMetric::Auc}) {
    EXPECT_EQ(parse_select_metric(select_metric_name(m)), m);
  }
  EXPECT_EQ(parse_select_metric(""), SelectMetric::None);
  EXPECT_FALSE(parse_select_metric("top1").has_value());
}

}  // namespace
}  // namespace thaw
