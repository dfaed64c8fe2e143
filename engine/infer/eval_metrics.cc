#include "engine/infer/eval_metrics.h"

#include <cmath>
#include <vector>

#include "stats/confusion.h"
#include "stats/roc_auc.h"

namespace thaw {

double balanced_accuracy(const EvalResult& r, int64_t classes) {
  if (r.count == 0) return -1;
  const ConfusionMatrix m = confusion_matrix(r.labels, r.predicted, static_cast<int>(classes));
  const double v = macro_rates(m).sensitivity;
  return std::isnan(v) ? -1 : v;
}

double macro_auc(const EvalResult& r, int64_t classes) {
  const size_t n = static_cast<size_t>(r.count);
  std::vector<double> aucs, scores(n);
  std::vector<uint8_t> positive(n);
  for (int64_t c = 0; c < classes; ++c) {
    size_t pos = 0;
    for (size_t i = 0; i < n; ++i) {
      scores[i] = r.probabilities[i * static_cast<size_t>(classes) + static_cast<size_t>(c)];
      positive[i] = r.labels[i] == c;
      pos += positive[i];
    }
    if (pos == 0 || pos == n) continue;
    aucs.push_back(auc_delong(scores, positive, 0.95).auc);
  }
  return aucs.empty() ? -1 : mean_defined(aucs);
}

}  // namespace thaw
