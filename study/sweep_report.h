#pragma once
// A sweep's readable outputs, from sweep.json's document (study/sweep.h): sweep.csv (one row per
// arm), report.md and report.html (one self-contained file: the tables, and the plots of
// scripts/sweep-plots embedded as base64 PNG), and the table printed at the end.
#include <filesystem>
#include <ostream>
#include <string>

#include <nlohmann/json.hpp>

namespace thaw {

// "0.812 [0.789, 0.833]" from {estimate, lo, hi}; "-" for null values.
std::string with_interval(const nlohmann::json& v);

std::string sweep_csv(const nlohmann::json& sweep);
std::string sweep_table(const nlohmann::json& sweep);
// A k-fold sweep's per-arm, per-fold figures (sweep_folds.csv), one row per arm and fold.
std::string sweep_folds_csv(const nlohmann::json& sweep);  // fixed-width text, for the terminal
std::string sweep_markdown(const nlohmann::json& sweep, bool with_plots);
// `plots_dir`: where accuracy_vs_cost.png, loss_curves.png and confusion.png are (absent ones are
// left out, and the report says the plots are missing).
std::string sweep_html(const nlohmann::json& sweep, const std::filesystem::path& plots_dir);

std::string base64(const std::string& bytes);

// Writes sweep.csv, runs the plot script (a failure there is reported on `log`, and the report is
// written without plots), report.md and report.html.
void write_sweep_report(const nlohmann::json& sweep, const std::filesystem::path& dir,
                        const std::filesystem::path& plot_script, std::ostream& log);

}  // namespace thaw
