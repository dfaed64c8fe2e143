#pragma once
// `thaw report RUN_DIR --positive CLASS`: the validation pack of one finished run, the figures a
// regulator asks for in one place, each traceable to the bytes it came from:
// - what the model is for (study/intended_use.h) and the data: counts per class and split;
// - an operating point for the positive class chosen on the validation split (Youden's J, never
//   on test), and at it, on the test split: sensitivity, specificity, PPV, NPV and accuracy with
//   their intervals, and the AUC with DeLong's; every class one-vs-rest at the model's own call;
// - ROC and precision-recall curves of the test split with the operating point on them;
// - calibration on the test split: Brier scores, reliability tables and expected calibration error
//   for the positive class and for the top label, the binning stated (stats/calibration.h);
// - provenance: the run's id and command, thaw's version and commit (and whether the tree was
//   dirty), the record's SHA-256 and its last chained parameter checksum, the manifest's and the
//   weights' SHA-256.
// Predictions come from RUN_DIR/predictions-{val,test}.csv when their eval-*.json names the run's
// weights by SHA-256, else the run is evaluated first (study/eval_files.h).
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "stats/evaluation.h"

namespace thaw {

inline constexpr const char* kValidationFormat = "thaw-validation";

struct ValidationRequest {
  std::filesystem::path run;
  std::string positive;
  std::filesystem::path intended_use;  // empty: the report says that none was given
  std::filesystem::path out;           // the report's folder
  EvalOptions stats;                   // interval method, confidence, bootstrap
  int bins = 10;                       // reliability bins
  int64_t eval_batch_size = 64;
  int64_t test_limit = 0;
  std::filesystem::path plot_script;   // scripts/report-plots; empty: no plots
  std::filesystem::path pdf_script;    // scripts/report-pdf; empty: no PDF
  std::vector<std::string> subgroups;  // columns of the run's CSV manifest (study/subgroups.h)
};

// Writes OUT/validation.json, OUT/plots/*.png (when the plot script runs) and OUT/validation.html
// (and OUT/validation.pdf with a pdf_script); returns validation.json's document. UserErrors name
// the run folder, the class or the file.
nlohmann::json write_validation_report(const ValidationRequest& r, std::ostream& log);

}  // namespace thaw
