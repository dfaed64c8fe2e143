// Balanced accuracy and macro AUC of one evaluation, against values worked out by hand.
#include "engine/infer/eval_metrics.h"

#include <gtest/gtest.h>

namespace thaw {
namespace {

EvalResult three_class_result() {
  EvalResult r;
  // labels 0 0 1 1 2 2; predictions 0 1 1 1 2 0.
  r.labels = {0, 0, 1, 1, 2, 2};
  r.predicted = {0, 1, 1, 1, 2, 0};
  r.count = 6;
  // Rows of probabilities (classes 0, 1, 2).
  r.probabilities = {0.6f, 0.3f, 0.1f,  0.3f, 0.5f, 0.2f,  0.2f, 0.7f, 0.1f,
                     0.1f, 0.8f, 0.1f,  0.2f, 0.1f, 0.7f,  0.5f, 0.2f, 0.3f};
  return r;
}

TEST(EvalMetrics, BalancedAccuracyIsTheMeanRecallOfThePresentClasses) {
  // Recalls 1/2, 2/2, 1/2.
  EXPECT_DOUBLE_EQ(balanced_accuracy(three_class_result(), 3), (0.5 + 1.0 + 0.5) / 3);
  EXPECT_EQ(balanced_accuracy(EvalResult{}, 3), -1);
}

TEST(EvalMetrics, MacroAucIsTheMeanOneVsRestAuc) {
  // Class 0 scores: positives {0.6, 0.3}, negatives {0.2, 0.1, 0.2, 0.5}: pairs won 4 + 3 = 7 of 8.
  // Class 1: positives {0.7, 0.8}, negatives {0.3, 0.5, 0.1, 0.2}: 8 of 8.
  // Class 2: positives {0.7, 0.3}, negatives {0.1, 0.2, 0.1, 0.1}: 8 of 8.
  EXPECT_NEAR(macro_auc(three_class_result(), 3), (7.0 / 8 + 1 + 1) / 3, 1e-12);
  EvalResult one_class = three_class_result();
  one_class.labels.assign(6, 1);
  EXPECT_EQ(macro_auc(one_class, 3), -1);  // no class has both positives and negatives
}

}  // namespace
}  // namespace thaw
