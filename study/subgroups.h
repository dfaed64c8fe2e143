#pragma once
// The subgroup tables of a validation report (`thaw report --subgroups sex,site`): the test samples
// grouped by a column of the run's CSV manifest (any column besides path, label, split and group),
// per level the accuracy of the model's call and the positive class's sensitivity and specificity at
// the operating point, with intervals, and Pearson's chi-square test (stats/chi_square.h) of whether
// accuracy, and sensitivity, differ between the levels. A blank value is its own level, "(blank)".
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "stats/evaluation.h"
#include "stats/predictions.h"

namespace thaw {

// The columns checked against the manifest's header, before any work.
void check_subgroup_columns(const std::string& data_spec, const std::vector<std::string>& columns);

// UserErrors name --subgroups: data that is not a CSV manifest, a column it lacks (the columns are
// listed), a test sample the manifest lacks, a column with one level among the test samples.
nlohmann::json subgroup_tables(const std::string& data_spec, const std::vector<std::string>& columns,
                               const Predictions& test, const std::string& positive, double threshold,
                               const EvalOptions& stats);

}  // namespace thaw
