#pragma once
// Number and text formatting shared by the sweep's report and its k-fold part.
#include <string>

#include <nlohmann/json.hpp>

namespace thaw {

std::string fixed(double v, int digits);                           // "%.*f"
std::string number_or_dash(const nlohmann::json& v, int digits);   // "-" for a value that is no number
std::string p_value(const nlohmann::json& v);                      // 4 decimals, or "1.2e-05" below 1e-4; "-"
std::string html_escape(const std::string& s);

}  // namespace thaw
