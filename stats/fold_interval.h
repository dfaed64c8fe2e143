#pragma once
// A metric measured once per fold of a k-fold cross-validation, summarised across the folds with
// Nadeau and Bengio's corrected resampled t (Machine Learning 52, 2003; for k-fold as Bouckaert
// and Frank, PAKDD 2004, use it): the folds' training sets overlap, so the folds' values are
// correlated and the plain t-interval's variance s^2/K is too small; the correction uses
// (1/K + n_test/n_train) s^2 instead, with K-1 degrees of freedom. For K-fold n_test/n_train is
// 1/(K-1).
#include <optional>
#include <vector>

namespace thaw {

struct FoldSummary {
  int folds = 0;
  double mean = 0, sd = 0;  // sd: the sample standard deviation over the folds
  double lo = 0, hi = 0;    // the corrected t interval around the mean
};

// `values`: one per fold, at least two (UserError otherwise). test_to_train: n_test / n_train.
FoldSummary corrected_fold_interval(const std::vector<double>& values, double test_to_train, double confidence);

// The corrected resampled paired t-test of per-fold differences (A - B on the same folds): the
// two-sided p of mean / sqrt((1/K + test_to_train) s^2) against t with K-1 degrees of freedom.
// nullopt when every difference is the same (no spread to test against).
std::optional<double> corrected_paired_t_p(const std::vector<double>& differences, double test_to_train);

}  // namespace thaw
