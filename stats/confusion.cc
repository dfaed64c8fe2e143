#include "stats/confusion.h"

#include <cmath>
#include <limits>

#include "core/error.h"

namespace thaw {

ConfusionMatrix::ConfusionMatrix(int classes)
    : classes_(classes), counts_(static_cast<size_t>(classes) * classes, 0) {
  THAW_CHECK(classes >= 1, classes);
}

void ConfusionMatrix::add(int truth, int predicted, int64_t times) {
  THAW_CHECK(truth >= 0 && truth < classes_ && predicted >= 0 && predicted < classes_, truth, ",", predicted);
  counts_[truth * classes_ + predicted] += times;
  total_ += times;
}

int64_t ConfusionMatrix::correct() const {
  int64_t s = 0;
  for (int c = 0; c < classes_; ++c) s += at(c, c);
  return s;
}

ClassCounts ConfusionMatrix::counts(int c) const {
  ClassCounts k;
  k.tp = at(c, c);
  for (int j = 0; j < classes_; ++j) {
    if (j == c) continue;
    k.fn += at(c, j);
    k.fp += at(j, c);
  }
  k.tn = total_ - k.tp - k.fn - k.fp;
  return k;
}

ConfusionMatrix confusion_matrix(std::span<const int> truth, std::span<const int> predicted, int classes,
                                 std::span<const int32_t> weights) {
  THAW_CHECK(truth.size() == predicted.size() && truth.size() == weights.size(), truth.size(), ", ",
             predicted.size(), ", ", weights.size());
  ConfusionMatrix m(classes);
  for (size_t i = 0; i < truth.size(); ++i) {
    if (weights[i] != 0) m.add(truth[i], predicted[i], weights[i]);
  }
  return m;
}

ConfusionMatrix confusion_matrix(std::span<const int> truth, std::span<const int> predicted, int classes) {
  THAW_CHECK(truth.size() == predicted.size(), truth.size(), " vs ", predicted.size());
  ConfusionMatrix m(classes);
  for (size_t i = 0; i < truth.size(); ++i) m.add(truth[i], predicted[i]);
  return m;
}

double ratio(int64_t a, int64_t b) {
  return b == 0 ? std::numeric_limits<double>::quiet_NaN() : static_cast<double>(a) / static_cast<double>(b);
}

ClassRates class_rates(const ClassCounts& k) {
  return {ratio(k.tp, k.tp + k.fn), ratio(k.tn, k.tn + k.fp), ratio(k.tp, k.tp + k.fp),
          ratio(k.tn, k.tn + k.fn), ratio(2 * k.tp, 2 * k.tp + k.fp + k.fn)};
}

double mean_defined(std::span<const double> values) {
  double sum = 0;
  int64_t n = 0;
  for (const double v : values) {
    if (std::isnan(v)) continue;
    sum += v;
    ++n;
  }
  return n == 0 ? std::numeric_limits<double>::quiet_NaN() : sum / static_cast<double>(n);
}

MacroRates macro_rates(const ConfusionMatrix& m) {
  const size_t k = static_cast<size_t>(m.classes());
  std::vector<double> sens(k), spec(k), ppv(k), npv(k), f1(k);
  for (size_t c = 0; c < k; ++c) {
    const ClassRates r = class_rates(m.counts(static_cast<int>(c)));
    sens[c] = r.sensitivity;
    spec[c] = r.specificity;
    ppv[c] = r.ppv;
    npv[c] = r.npv;
    f1[c] = r.f1;
  }
  return {mean_defined(sens), mean_defined(spec), mean_defined(ppv), mean_defined(npv), mean_defined(f1)};
}

}  // namespace thaw
