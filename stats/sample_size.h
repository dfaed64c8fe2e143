#pragma once
// How many test samples are needed to estimate a sensitivity (or specificity) of about `expected`
// with a 95% interval of half-width `half_width`, when the condition's prevalence in the test set
// is `prevalence` (Buderer 1996). First the cases: positives for sensitivity, negatives for
// specificity; then the total test set, cases / prevalence or cases / (1 - prevalence), rounded up.
//  - normal: cases = ceil(z^2 p (1 - p) / w^2), the Wald interval's half-width.
//  - exact: the smallest n whose Clopper-Pearson interval at the expected count p * n has
//    (hi - lo) / 2 <= w. Near 0 or 1, where the Wald interval is too narrow, it asks for more.
// Totals are rounded up after allowing 1e-9 for the rounding of the division (139 / 0.2 is 695).
#include <cstdint>
#include <string_view>

namespace thaw {

enum class SampleSizeMetric { Sensitivity, Specificity };

SampleSizeMetric parse_sample_size_metric(std::string_view text, std::string_view flag);

struct SampleSizeCases {
  int64_t cases = 0;  // positives (sensitivity) or negatives (specificity)
  int64_t total = 0;  // test-set size at the given prevalence
};

struct SampleSizePlan {
  SampleSizeCases normal;
  SampleSizeCases exact;
  double achieved_half_width_exact = 0;  // (hi - lo) / 2 of the exact interval at the chosen n
};

int64_t cases_normal(double expected, double half_width, double confidence);
int64_t cases_exact(double expected, double half_width, double confidence);
// (hi - lo) / 2 of the Clopper-Pearson interval at successes = expected * n.
double exact_half_width(double expected, int64_t n, double confidence);

// Checks the arguments (UserErrors name the flags) and plans both ways.
SampleSizePlan plan_sample_size(SampleSizeMetric metric, double expected, double half_width, double prevalence,
                                double confidence);

}  // namespace thaw
