#include "study/validation_html.h"

#include <sstream>

#include "io/file_bytes.h"
#include "study/intended_use.h"
#include "study/report_format.h"
#include "study/run_provenance.h"
#include "study/sweep_report.h"

namespace thaw {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::string esc(const json& v) { return html_escape(v.is_string() ? v.get<std::string>() : v.dump()); }

std::string pct(const json& v) {
  if (!v.is_object() || !v.value("estimate", json()).is_number()) return "-";
  std::string s = with_interval(v);
  if (v.contains("successes")) s += " (" + v["successes"].dump() + "/" + v["trials"].dump() + ")";
  return s;
}

void row(std::ostream& os, const std::vector<std::string>& cells, bool head = false) {
  os << "<tr>";
  for (const std::string& c : cells) os << (head ? "<th>" : "<td>") << c << (head ? "</th>" : "</td>");
  os << "</tr>\n";
}

void intended_use(std::ostream& os, const json& doc) {
  os << "<h2>Intended use</h2>\n";
  if (doc["intended_use"].empty()) {
    os << "<p class=\"warn\">No intended-use sidecar was given (<code>--intended-use FILE.yaml</code>): what the model "
          "is for, on which patients, sites and devices, and against which reference standard is not stated.</p>\n";
    return;
  }
  os << "<table>\n";
  for (const auto& [key, heading] : intended_use_fields()) {
    for (const json& f : doc["intended_use"]) {
      if (f["field"] != key) continue;
      std::string texts;
      for (const json& t : f["texts"]) texts += (texts.empty() ? "" : "<br>") + esc(t);
      row(os, {html_escape(heading), texts});
    }
  }
  os << "</table>\n<p class=\"note\">From " << esc(doc["intended_use_file"]) << ".</p>\n";
}

void data_counts(std::ostream& os, const json& doc) {
  os << "<h2>Data</h2>\n<p class=\"note\">" << esc(doc["provenance"]["data"]) << "</p>\n<table>\n";
  std::vector<std::string> head = {"class"};
  std::vector<std::string> splits;
  for (const char* s : {"train", "val", "test"}) {
    if (doc["counts"].contains(s)) {
      splits.push_back(s);
      head.push_back(s);
    }
  }
  row(os, head, true);
  for (size_t c = 0; c < doc["classes"].size(); ++c) {
    std::vector<std::string> r = {esc(doc["classes"][c]) + (doc["classes"][c] == doc["positive"] ? " (positive)" : "")};
    for (const std::string& s : splits) r.push_back(doc["counts"][s][c].dump());
    row(os, r);
  }
  os << "</table>\n";
}

void operating_point(std::ostream& os, const json& doc) {
  const json& op = doc["operating_point"];
  const json& t = doc["test"];
  os << "<h2>Performance on the test split</h2>\n<p>Positive class <b>" << esc(doc["positive"])
     << "</b>. Operating point: called positive when p(" << esc(doc["positive"]) << ") &ge; <b>"
     << fixed(op["threshold"].get<double>(), 4) << "</b>, chosen by " << esc(op["chosen_by"]) << " ("
     << op["val_samples"].dump() << " validation samples: sensitivity " << fixed(op["val_sensitivity"].get<double>(), 3)
     << ", specificity " << fixed(op["val_specificity"].get<double>(), 3) << "); the test split played no part in it. "
     << t["samples"].dump() << " test samples.</p>\n<table>\n";
  row(os, {"", "at the operating point", "at the model's own call (highest probability)"}, true);
  for (const auto& [key, name] : std::vector<std::pair<std::string, std::string>>{
           {"sensitivity", "sensitivity"}, {"specificity", "specificity"}, {"ppv", "PPV"}, {"npv", "NPV"},
           {"accuracy", "accuracy (positive vs rest)"}}) {
    row(os, {name, pct(t["at_operating_point"][key]), pct(t["at_model_call"][key])});
  }
  row(os, {"AUC (DeLong)", with_interval(t["at_operating_point"]["auc"]), ""});
  os << "</table>\n<h3>Every class, one against the rest, at the model's own call</h3>\n<table>\n";
  row(os, {"class", "support", "sensitivity", "specificity", "PPV", "NPV", "AUC"}, true);
  for (const json& c : t["per_class"]) {
    row(os, {esc(c["class"]), c["support"].dump(), pct(c["sensitivity"]), pct(c["specificity"]), pct(c["ppv"]),
             pct(c["npv"]), with_interval(c["auc"])});
  }
  os << "</table>\n<p class=\"note\">Overall accuracy " << pct(t["accuracy"]) << ", balanced accuracy "
     << with_interval(t["balanced_accuracy"]) << ". Intervals " << fixed(doc["confidence"].get<double>() * 100, 0)
     << "%: " << esc(doc["ci_method"]) << " for proportions, DeLong for AUCs, a seeded bootstrap for balanced "
     << "accuracy.</p>\n";
}

void calibration(std::ostream& os, const json& doc) {
  const json& c = doc["calibration"];
  os << "<h2>Calibration on the test split</h2>\n<p>Brier score of p(" << esc(doc["positive"]) << "): <b>"
     << fixed(c["positive_brier"].get<double>(), 4) << "</b>; multi-class Brier score: "
     << fixed(c["multiclass_brier"].get<double>(), 4) << ". Expected calibration error (ECE), " << c["bins"].dump()
     << " bins: p(" << esc(doc["positive"]) << ") <b>" << fixed(c["positive"]["ece"].get<double>(), 4)
     << "</b>, top label " << fixed(c["top_label"]["ece"].get<double>(), 4) << ". Binning: " << esc(c["binning"])
     << ".</p>\n<table>\n";
  std::string mean = "mean p(";
  mean += esc(doc["positive"]);
  mean += ')';
  row(os, {"bin", "samples", mean, "observed share positive"}, true);
  for (const json& b : c["positive"]["table"]) {
    std::string bin = "(";
    bin += fixed(b["lo"].get<double>(), 2);
    bin += ", ";
    bin += fixed(b["hi"].get<double>(), 2);
    bin += ']';
    row(os, {bin, b["count"].dump(), fixed(b["mean_predicted"].get<double>(), 3), fixed(b["observed"].get<double>(), 3)});
  }
  os << "</table>\n";
}

std::string test_text(const json& t) {
  if (!t.value("p", json()).is_number()) return "no test (" + esc(t.value("why", "")) + ")";
  std::string s = "chi-square " + fixed(t["statistic"].get<double>(), 2) + ", " + t["df"].dump() + " df, p = " + p_value(t["p"]);
  if (t["min_expected"].get<double>() < 5) s += " (an expected count below 5: the approximation is rough)";
  return s;
}

void subgroups(std::ostream& os, const json& doc) {
  if (!doc.contains("subgroups") || doc["subgroups"].empty()) return;
  os << "<h2>Subgroups (test split)</h2>\n";
  for (const json& g : doc["subgroups"]) {
    os << "<h3>" << esc(g["column"]) << "</h3>\n<table>\n";
    row(os, {"level", "samples", "accuracy (model's call)", "sensitivity at the operating point",
             "specificity at the operating point"}, true);
    for (const json& l : g["levels"]) {
      row(os, {esc(l["value"]), l["samples"].dump(), pct(l["accuracy"]), pct(l["sensitivity"]), pct(l["specificity"])});
    }
    os << "</table>\n<p class=\"note\">Do the levels differ? Accuracy: " << test_text(g["accuracy_test"])
       << "; sensitivity: " << test_text(g["sensitivity_test"]) << ".</p>\n";
  }
}

void provenance(std::ostream& os, const json& doc) {
  const json& p = doc["provenance"];
  os << "<h2>Provenance</h2>\n<table class=\"prov\">\n";
  const json& t = p["thaw"];
  const std::string thaw = t.is_object() ? esc(t.value("version", "")) + " (" + esc(t.value("git_describe", "")) + ", commit " +
                                               esc(t.value("git_commit", "")) + (built_dirty(p) ? ", built from a tree with uncommitted changes" : ", clean tree") + ")"
                                         : "-";
  row(os, {"run", esc(p["run_id"]) + " (" + esc(p["run_created_utc"]) + ")"});
  row(os, {"run folder", esc(doc["run_dir"])});
  row(os, {"thaw that trained it", thaw});
  row(os, {"command", "<code>" + esc(p["command"]) + "</code>"});
  row(os, {"record.json SHA-256", "<code>" + esc(p["record_sha256"]) + "</code>"});
  row(os, {"steps; last chained parameter checksum", p["steps"].dump() + "; <code>" + esc(p["final_param_checksum"]) + "</code>"});
  row(os, {"data manifest SHA-256 (samples.csv)", "<code>" + esc(p["manifest_sha256"]) + "</code>"});
  row(os, {"weights.safetensors SHA-256", "<code>" + esc(p["weights_sha256"]) + "</code>"});
  if (p.contains("initial_weights")) {
    row(os, {"initial weights", esc(p["initial_weights"]["source"]) + " <code>" + esc(p["initial_weights"]["file_sha256"]) + "</code>"});
  }
  os << "</table>\n<p class=\"note\"><code>thaw replay " << esc(doc["run_dir"])
     << "</code> re-runs the training and proves it bit for bit; this report was made " << esc(doc["created_utc"])
     << ".</p>\n";
}

}  // namespace

std::string validation_html(const json& doc, const fs::path& plots_dir) {
  std::ostringstream os;
  os << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Validation report "
     << esc(doc["provenance"]["run_id"]) << "</title>\n<style>\n"
        "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;max-width:1100px;color:#222;"
        "padding:0 1em;line-height:1.45}\nh1{font-size:1.6em;margin-bottom:0.2em}\n"
        "h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #ddd;break-after:avoid}\nh3{font-size:1.05em}\n"
        "table{border-collapse:collapse;font-size:0.9em;margin:0.8em 0;break-inside:avoid}\n"
        "th,td{border:1px solid #ccc;padding:0.3em 0.6em;text-align:left;vertical-align:top}\nth{background:#f2f4f7}\n"
        "code{background:#f4f4f4;padding:0.1em 0.3em;border-radius:3px;font-size:0.85em;overflow-wrap:anywhere}\n"
        ".note{color:#444;font-size:0.9em}.warn{color:#8a1f11}\nimg{max-width:48%;border:1px solid #e3e3e3;margin:0.3em}\n"
        "@media print{body{margin:0;max-width:none}img{max-width:45%}}\n</style></head><body>\n";
  os << "<h1>Validation report</h1>\n<p class=\"note\">Run " << esc(doc["provenance"]["run_id"]) << " &middot; made by "
     << "<code>thaw report</code> " << esc(doc["created_utc"]) << "</p>\n";
  intended_use(os, doc);
  data_counts(os, doc);
  operating_point(os, doc);
  os << "<h2>ROC and precision-recall curves (test split)</h2>\n";
  bool any = false;
  for (const char* f : {"roc.png", "pr.png", "reliability.png"}) {
    if (plots_dir.empty() || !fs::exists(plots_dir / f)) continue;
    any = true;
    os << "<img alt=\"" << f << "\" src=\"data:image/png;base64," << base64(read_file_or_empty(plots_dir / f)) << "\">\n";
  }
  if (!any) os << "<p class=\"note\">No plots: scripts/report-plots did not run.</p>\n";
  os << "<p class=\"note\">Average precision " << fixed(doc["curves"]["pr"]["average_precision"].get<double>(), 3)
     << "; the marker on each curve is the operating point. The reliability diagram is the table below.</p>\n";
  calibration(os, doc);
  subgroups(os, doc);
  provenance(os, doc);
  os << "</body></html>\n";
  return os.str();
}

}  // namespace thaw
