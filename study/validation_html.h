#pragma once
// validation.html of `thaw report` (study/validation_report.h): one self-contained file, the plots
// of scripts/report-plots embedded as base64 PNG, laid out to print (the PDF is this page printed).
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace thaw {

// `plots_dir`: where roc.png, pr.png and reliability.png are; empty: the report says there are none.
std::string validation_html(const nlohmann::json& doc, const std::filesystem::path& plots_dir);

}  // namespace thaw
