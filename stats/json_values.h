#pragma once
// How statistics appear in eval.json: a number, or null where it is undefined (NaN); a proportion
// as {estimate, lo, hi, successes, trials, method}; an interval as {estimate, lo, hi, method}.
#include <nlohmann/json.hpp>

#include "stats/bootstrap.h"
#include "stats/proportion.h"
#include "stats/roc_auc.h"

namespace thaw {

nlohmann::json number_or_null(double v);
nlohmann::json proportion_json(const Proportion& p, CiMethod method);
nlohmann::json bootstrap_json(double estimate, const BootstrapInterval& b);
nlohmann::json auc_json(const AucEstimate& e);

// The value of a number-or-null field: NaN for null.
double number_of(const nlohmann::json& v);

}  // namespace thaw
