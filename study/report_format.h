#pragma once
// Number and text formatting shared by the sweep's report and its k-fold part.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace thaw {

std::string fixed(double v, int digits);                           // "%.*f"
std::string number_or_dash(const nlohmann::json& v, int digits);   // "-" for a value that is no number
std::string p_value(const nlohmann::json& v);                      // 4 decimals, or "1.2e-05" below 1e-4; "-"
std::string html_escape(const std::string& s);

// A table whose first row is the titles: as Markdown (`| a | b |`, then `| --- |` under the titles)
// and as HTML (in a scrolling <div class="wide">, cells escaped). code: body cells as code.
std::string markdown_table(const std::vector<std::vector<std::string>>& rows, bool code = false);
std::string html_table(const std::vector<std::vector<std::string>>& rows, bool code = false);

}  // namespace thaw
