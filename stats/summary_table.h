#pragma once
// The readable summary of an eval.json document that `thaw stats` prints: headline metrics with
// their intervals, a per-class table, the confusion matrix, and the binary view and comparison
// when present. Three decimals; "-" where a value is undefined.
#include <string>

#include <nlohmann/json.hpp>

namespace thaw {

std::string summary_table(const nlohmann::json& eval);

}  // namespace thaw
