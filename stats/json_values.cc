#include "stats/json_values.h"

#include <cmath>
#include <limits>

namespace thaw {

nlohmann::json number_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

double number_of(const nlohmann::json& v) {
  return v.is_number() ? v.get<double>() : std::numeric_limits<double>::quiet_NaN();
}

nlohmann::json proportion_json(const Proportion& p, CiMethod method) {
  return {{"estimate", number_or_null(p.estimate)},
          {"lo", number_or_null(p.lo)},
          {"hi", number_or_null(p.hi)},
          {"successes", p.successes},
          {"trials", p.trials},
          {"method", ci_method_name(method)}};
}

nlohmann::json bootstrap_json(double estimate, const BootstrapInterval& b) {
  return {{"estimate", number_or_null(estimate)},
          {"lo", number_or_null(b.lo)},
          {"hi", number_or_null(b.hi)},
          {"method", "bootstrap-percentile"},
          {"replicates_used", b.replicates_used}};
}

nlohmann::json auc_json(const AucEstimate& e) {
  return {{"estimate", number_or_null(e.auc)}, {"lo", number_or_null(e.lo)},  {"hi", number_or_null(e.hi)},
          {"se", number_or_null(e.se)},        {"method", "delong"},          {"positives", e.positives},
          {"negatives", e.negatives}};
}

}  // namespace thaw
