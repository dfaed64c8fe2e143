#pragma once
// `thaw sweep --folds K`: the freeze-depth sweep as a k-fold study. Fold f's sweep is an ordinary
// sweep (study/sweep.h) in SWEEP_DIR/fold-<f>/, its arms trained with `--folds K --fold f` (io/folds.h:
// the same group-safe, stratified folds for every arm), validation carved out of the training folds
// by --val-fraction, and fold f as the test split. Every image is tested exactly once per arm.
//
// SWEEP_DIR/sweep.json pools them, per arm complete in every fold:
// - test: the out-of-fold predictions of all folds in one file (arms/<arm>/predictions-test.csv,
//   eval-test.json), evaluated as one test set; its intervals treat the images as independent and
//   leave out the variation between the K models;
// - across_folds: each test metric's mean over the folds with Nadeau and Bengio's corrected t
//   interval (stats/fold_interval.h), which includes that variation;
// - val: each validation metric's mean over the folds, with the same interval; the best arm is
//   the one with the highest mean validation accuracy (never a test figure);
// - vs_best: McNemar's exact test on the pooled test predictions (Holm-adjusted across the arms, as
//   in one sweep), and the corrected resampled paired t-test of the per-fold test accuracies.
// The report (study/sweep_report.h) shows the pooled table and a table by fold.
#include <ostream>
#include <vector>

#include <nlohmann/json.hpp>

#include "study/sweep.h"

namespace thaw {

// Runs (or, with --resume, finishes) every fold's sweep, then pools them.
nlohmann::json run_fold_sweep(const SweepConfig& c, std::ostream& log);

// The pooled document from the folds' sweep.json documents (in fold order); writes each complete
// arm's pooled predictions and evaluation under c.out/arms/<arm>/.
nlohmann::json pool_fold_sweeps(const SweepConfig& c, const std::vector<nlohmann::json>& folds);

}  // namespace thaw
