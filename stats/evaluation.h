#pragma once
// The whole evaluation of a predictions file, as the eval.json document (fields in
// docs/eval-format.md): confusion matrix, accuracy and balanced accuracy, per-class rates with
// their intervals, one-vs-rest AUCs with DeLong intervals, bootstrap intervals for the macro
// metrics, and optionally a binary view of one class at a threshold.
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "stats/predictions.h"
#include "stats/proportion.h"

namespace thaw {

struct EvalOptions {
  CiMethod ci = CiMethod::Wilson;
  double confidence = 0.95;
  int bootstrap_replicates = 2000;
  uint64_t seed = 0;
  std::string positive;             // class name for the binary view; empty: none
  std::optional<double> threshold;  // with `positive`: positive when p(positive) >= threshold
};

// Checks the options against the file (UserErrors name the flag) before any work.
void check_eval_options(const Predictions& p, const EvalOptions& o);

nlohmann::json evaluate_predictions(const Predictions& p, const EvalOptions& o);

}  // namespace thaw
