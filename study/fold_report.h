#pragma once
// The k-fold part of a sweep's report (study/fold_sweep.h): the table of test accuracy by fold,
// with the mean, its corrected interval and the corrected t-test against the best arm, the note
// saying which interval is which, and sweep_folds.csv.
#include <string>

#include <nlohmann/json.hpp>

namespace thaw {

bool is_fold_sweep(const nlohmann::json& sweep);  // a sweep.json with "folds"
std::string fold_markdown(const nlohmann::json& sweep);
std::string fold_html(const nlohmann::json& sweep);
// One row per arm and fold: val_ and test_ accuracy, balanced accuracy, macro F1 and macro AUC.
std::string sweep_folds_csv(const nlohmann::json& sweep);

}  // namespace thaw
