#include "study/subgroups.h"

#include <filesystem>
#include <map>
#include <set>

#include "core/error.h"
#include "io/csv.h"
#include "stats/chi_square.h"
#include "stats/json_values.h"
#include "stats/proportion.h"

namespace thaw {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::string key_of(const fs::path& p) { return p.lexically_normal().string(); }

struct Counts {
  int64_t n = 0, correct = 0, tp = 0, fn = 0, tn = 0, fp = 0;
};

json test_json(const std::vector<std::vector<int64_t>>& table) {
  int rows = 0;
  int64_t c0 = 0, c1 = 0;
  for (const auto& r : table) {
    rows += (r[0] + r[1]) > 0;
    c0 += r[0];
    c1 += r[1];
  }
  if (rows < 2 || c0 == 0 || c1 == 0) return {{"p", nullptr}, {"why", "fewer than two levels, or no variation, to compare"}};
  const ChiSquareTest t = chi_square_independence(table);
  return {{"statistic", t.statistic}, {"df", t.df}, {"p", t.p}, {"min_expected", t.min_expected},
          {"method", "Pearson chi-square, no continuity correction"}};
}

bool reserved(const std::string& h) { return h == "path" || h == "file" || h == "label" || h == "split" || h == "group"; }

}  // namespace

void check_subgroup_columns(const std::string& data_spec, const std::vector<std::string>& columns) {
  if (columns.empty()) return;
  if (fs::path(data_spec).extension() != ".csv" || !fs::is_regular_file(data_spec)) {
    fail_user("--subgroups: the run's data (", data_spec, ") is not a CSV manifest; subgroup columns come from one");
  }
  const CsvTable t = read_csv(data_spec);
  for (const std::string& column : columns) {
    if (t.column(column) >= 0 && !reserved(column)) continue;
    std::string names;
    for (const std::string& h : t.header) {
      if (!reserved(h)) names += (names.empty() ? "" : ", ") + h;
    }
    fail_user("--subgroups: '", column, "' is not a subgroup column of ", data_spec, " (its other columns: ", names, ")");
  }
}

json subgroup_tables(const std::string& data_spec, const std::vector<std::string>& columns, const Predictions& test,
                     const std::string& positive, double threshold, const EvalOptions& stats) {
  json out = json::array();
  if (columns.empty()) return out;
  check_subgroup_columns(data_spec, columns);
  if (test.paths.empty()) fail_user("--subgroups: ", test.source, " has no path column to find the samples by");
  const CsvTable t = read_csv(data_spec);
  int path_col = t.column("path");
  if (path_col < 0) path_col = t.column("file");
  const fs::path base = fs::path(data_spec).parent_path();
  std::map<std::string, size_t> row_of;
  for (size_t i = 0; i < t.rows.size(); ++i) {
    const fs::path p = t.rows[i][static_cast<size_t>(path_col)];
    row_of[key_of(p.is_absolute() ? p : base / p)] = i;
  }
  const int pos = test.class_index(positive);
  for (const std::string& column : columns) {
    const int col = t.column(column);
    std::map<std::string, Counts> levels;
    for (int64_t i = 0; i < test.size(); ++i) {
      const auto it = row_of.find(key_of(test.paths[static_cast<size_t>(i)]));
      if (it == row_of.end()) fail_user("--subgroups: test sample ", test.paths[static_cast<size_t>(i)], " is not in ", data_spec);
      std::string v = t.rows[it->second][static_cast<size_t>(col)];
      if (v.empty()) v = "(blank)";
      Counts& c = levels[v];
      ++c.n;
      c.correct += test.predicted[static_cast<size_t>(i)] == test.labels[static_cast<size_t>(i)];
      const bool truth = test.labels[static_cast<size_t>(i)] == pos, called = test.prob(i, pos) >= threshold;
      (truth ? (called ? c.tp : c.fn) : (called ? c.fp : c.tn)) += 1;
    }
    if (levels.size() < 2) {
      fail_user("--subgroups: column '", column, "' has only the level '", levels.begin()->first,
                "' among the test samples; nothing to compare");
    }
    json lv = json::array();
    std::vector<std::vector<int64_t>> acc, sens;
    for (const auto& [value, c] : levels) {
      lv.push_back({{"value", value},
                    {"samples", c.n},
                    {"accuracy", proportion_json(proportion(c.correct, c.n, stats.ci, stats.confidence), stats.ci)},
                    {"sensitivity", proportion_json(proportion(c.tp, c.tp + c.fn, stats.ci, stats.confidence), stats.ci)},
                    {"specificity", proportion_json(proportion(c.tn, c.tn + c.fp, stats.ci, stats.confidence), stats.ci)}});
      acc.push_back({c.correct, c.n - c.correct});
      sens.push_back({c.tp, c.fn});
    }
    out.push_back({{"column", column}, {"levels", lv}, {"accuracy_test", test_json(acc)}, {"sensitivity_test", test_json(sens)}});
  }
  return out;
}

}  // namespace thaw
