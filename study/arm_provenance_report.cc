#include "study/arm_provenance_report.h"

#include <vector>

#include "study/report_format.h"
#include "study/run_provenance.h"

namespace thaw {

namespace {

using json = nlohmann::json;

std::string text(const json& v) { return v.is_string() ? v.get<std::string>() : v.is_null() ? "-" : v.dump(); }

// Title row, then one row per arm with provenance (in a k-fold sweep: each fold's run of the arm).
std::vector<std::vector<std::string>> rows(const json& sweep) {
  std::vector<std::vector<std::string>> out = {
      {"arm", "run id", "steps", "weights SHA-256", "record.json SHA-256", "trained by thaw"}};
  const auto add = [&](const std::string& name, const json& p) {
    const json& t = p.value("thaw", json::object());
    std::string thaw = t.is_object() ? text(t.value("git_describe", json())) : "-";
    if (built_dirty(p)) thaw += " (uncommitted changes)";
    out.push_back({name, text(p.value("run_id", json())), text(p.value("steps", json())),
                   text(p.value("weights_sha256", json())), text(p.value("record_sha256", json())), thaw});
  };
  for (const json& a : sweep.at("arms")) {
    const std::string name = a.at("freeze_through").get<std::string>();
    if (a.contains("provenance") && a["provenance"].is_object()) add(name, a["provenance"]);
    const json& folds = a.value("fold_provenance", json::array());
    for (size_t f = 0; f < folds.size(); ++f) {
      if (folds[f].is_object()) add(name + " (fold " + std::to_string(f) + ")", folds[f]);
    }
  }
  return out;
}

}  // namespace

std::string arm_provenance_markdown(const json& sweep) {
  const auto r = rows(sweep);
  if (r.size() < 2) return "";
  return "\n## Provenance of the arms\n\n" + markdown_table(r, true) +
         "\n`thaw replay` of an arm's run folder proves its training bit for bit.\n";
}

std::string arm_provenance_html(const json& sweep) {
  const auto r = rows(sweep);
  if (r.size() < 2) return "";
  return "<h2>Provenance of the arms</h2>\n" + html_table(r, true) +
         "<p class=\"note\"><code>thaw replay</code> of an arm's run folder proves its training bit for bit.</p>\n";
}

}  // namespace thaw
