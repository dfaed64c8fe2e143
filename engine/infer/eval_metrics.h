#pragma once
// The held-out metrics an epoch can be selected by (engine/train/best_epoch.h), from one evaluation:
// balanced accuracy and the macro one-vs-rest ROC AUC, computed by thaw's statistics (stats/), the
// same numbers `thaw stats` gives for these predictions.
#include <cstdint>

#include "engine/infer/evaluate.h"

namespace thaw {

// The mean recall over the classes present in the labels (scikit-learn's balanced_accuracy_score);
// -1 for an empty evaluation.
double balanced_accuracy(const EvalResult& r, int64_t classes);

// The mean over classes of each class's one-vs-rest AUC of its probability, over the classes with
// both positives and negatives; -1 where there is none.
double macro_auc(const EvalResult& r, int64_t classes);

}  // namespace thaw
