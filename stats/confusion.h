#pragma once
// The confusion matrix (rows: true class, columns: predicted class) and what follows from it: the
// one-vs-rest counts of each class and the point values of accuracy, balanced accuracy and the
// per-class and macro-averaged sensitivity, specificity, PPV, NPV and F1.
#include <cstdint>
#include <span>
#include <vector>

namespace thaw {

struct ClassCounts {
  int64_t tp = 0, fp = 0, fn = 0, tn = 0;
};

class ConfusionMatrix {
 public:
  explicit ConfusionMatrix(int classes);

  void add(int truth, int predicted, int64_t times = 1);
  int classes() const { return classes_; }
  int64_t at(int truth, int predicted) const { return counts_[truth * classes_ + predicted]; }
  int64_t total() const { return total_; }
  int64_t correct() const;
  ClassCounts counts(int c) const;  // class c against the rest

 private:
  int classes_;
  int64_t total_ = 0;
  std::vector<int64_t> counts_;
};

// Sample i counted weights[i] times: a bootstrap replicate without copying the data.
ConfusionMatrix confusion_matrix(std::span<const int> truth, std::span<const int> predicted, int classes,
                                 std::span<const int32_t> weights);
ConfusionMatrix confusion_matrix(std::span<const int> truth, std::span<const int> predicted, int classes);

// a / b, NaN when b is 0.
double ratio(int64_t a, int64_t b);

// NaN where a class has no denominator (e.g. sensitivity of a class absent from the labels).
struct ClassRates {
  double sensitivity, specificity, ppv, npv, f1;
};
ClassRates class_rates(const ClassCounts& k);

// Means over the classes where each rate is defined (NaN when none is). The macro sensitivity is
// the balanced accuracy (scikit-learn's balanced_accuracy_score: classes present in the labels).
struct MacroRates {
  double sensitivity, specificity, ppv, npv, f1;
};
MacroRates macro_rates(const ConfusionMatrix& m);

// Mean of the non-NaN values, NaN when there is none.
double mean_defined(std::span<const double> values);

}  // namespace thaw
