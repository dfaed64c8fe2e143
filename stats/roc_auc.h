#pragma once
// Area under the ROC curve with DeLong's variance (DeLong, DeLong & Clarke-Pearson 1988), computed
// through midranks (Sun & Xu 2014) in O(n log n): each positive's placement V10 is the share of
// negatives it outscores (ties count half), each negative's V01 the share of positives that outscore
// it; the AUC is the mean placement and its variance var(V10)/m + var(V01)/n.
#include <cstdint>
#include <span>
#include <vector>

namespace thaw {

// 1-based ranks with ties given the mean of the ranks they span.
std::vector<double> midranks(std::span<const double> values);

struct Placements {
  double auc = 0;
  std::vector<double> v10;  // one per positive, in sample order
  std::vector<double> v01;  // one per negative, in sample order
};

// `positive[i]` says whether sample i is of the class; higher scores mean more likely positive.
// Requires at least one positive and one negative.
Placements placements(std::span<const double> scores, std::span<const uint8_t> positive);

struct AucEstimate {
  int64_t positives = 0, negatives = 0;
  double auc = 0;  // NaN without positives or without negatives
  double se = 0;   // NaN with fewer than two of either (the sample variance needs two)
  double lo = 0;   // auc -/+ z * se, clipped to [0, 1]
  double hi = 0;
};
AucEstimate auc_delong(std::span<const double> scores, std::span<const uint8_t> positive, double confidence);

// DeLong's test of two correlated AUCs: two models' scores for the same samples and labels.
struct PairedAucTest {
  double auc_a = 0, auc_b = 0;
  double difference = 0;  // auc_a - auc_b
  double se = 0;          // of the difference
  double z = 0;           // NaN when se is 0 (identical placements)
  double p = 0;           // two-sided; 1 when se is 0
};
PairedAucTest delong_paired(std::span<const double> scores_a, std::span<const double> scores_b,
                            std::span<const uint8_t> positive);

}  // namespace thaw

namespace thaw {

// One class's scores sorted once, so that the AUC of any reweighting of the samples (a bootstrap
// replicate: weight = times drawn) costs O(n) instead of a sort.
class RankedScores {
 public:
  RankedScores(std::span<const double> scores, std::span<const uint8_t> positive);
  // NaN when the weights leave no positive or no negative.
  double auc(std::span<const int32_t> weights) const;

 private:
  std::vector<size_t> order_;       // samples by ascending score
  std::vector<size_t> tie_end_;     // per position in order_: one past the last equal score
  std::vector<uint8_t> positive_;
};

}  // namespace thaw
