#pragma once
// A binary score's ROC and precision-recall curves, and the operating point chosen on them, as
// scikit-learn computes them (roc_curve with drop_intermediate=False, precision_recall_curve,
// average_precision_score; version 1.2): one point per distinct score, the rule "positive when
// score >= threshold".
#include <cstdint>
#include <span>
#include <vector>

namespace thaw {

struct RocCurve {
  // From (0, 0) (no sample called positive) through each distinct score, highest first.
  std::vector<double> fpr, tpr;
  std::vector<double> thresholds;  // thresholds[k] gives point k + 1 (point 0 has none)
};
// Requires at least one positive and one negative (UserError otherwise).
RocCurve roc_curve(std::span<const double> scores, std::span<const uint8_t> positive);

struct PrCurve {
  // Thresholds ascending (recall falling), then the point (recall 0, precision 1) with none.
  std::vector<double> precision, recall, thresholds;
  double average_precision = 0;  // sum over thresholds of (R_k - R_{k+1}) P_k
};
PrCurve precision_recall_curve(std::span<const double> scores, std::span<const uint8_t> positive);

// Youden's J: the threshold (one of the scores) maximising sensitivity + specificity - 1; on a tie
// the higher threshold (fewer called positive). Chosen on validation data, applied to test data.
struct OperatingPoint {
  double threshold = 0;
  double sensitivity = 0, specificity = 0, youden_j = 0;
};
OperatingPoint youden_point(std::span<const double> scores, std::span<const uint8_t> positive);

}  // namespace thaw
