#pragma once
// Two models' predictions for the same test samples, compared: McNemar's exact test on which
// samples each got right, and DeLong's paired test on each class's one-vs-rest AUC (one AUC for two
// classes, the other being its mirror), with Holm's correction across all these tests.
//
// Samples are matched by the `hash` column when both files have one, else by `path`, else by row
// order. The two files must hold the same samples with the same labels and the same classes
// (columns may be in another order); anything else is a UserError naming both files.
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "stats/evaluation.h"
#include "stats/predictions.h"

namespace thaw {

struct SampleMatch {
  const char* by = "row";       // "hash", "path" or "row"
  std::vector<int64_t> b_of_a;  // the row of B holding A's sample i
  std::vector<int> b_class_of_a;  // B's column index of A's class c
};
SampleMatch match_samples(const Predictions& a, const Predictions& b);

nlohmann::json compare_predictions(const Predictions& a, const Predictions& b, const EvalOptions& o);

}  // namespace thaw
