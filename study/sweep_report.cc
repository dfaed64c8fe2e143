#include "study/sweep_report.h"

#include <cstdio>
#include <fstream>
#include <iomanip>
#include <span>
#include <sstream>
#include <vector>

#include "io/atomic_file.h"
#include "io/csv.h"
#include "study/arm_provenance_report.h"
#include "study/child_process.h"
#include "study/fold_report.h"
#include "study/report_format.h"
#include "study/sweep.h"
#include "io/file_bytes.h"

namespace thaw {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::string params(const json& v) {
  if (!v.is_number()) return "-";
  const double n = v.get<double>();
  if (n >= 1e6) return fixed(n / 1e6, 2) + " M";
  if (n >= 1e3) return fixed(n / 1e3, 1) + " k";
  return fixed(n, 0);
}

std::string mebibytes(const json& v) { return v.is_number() ? fixed(v.get<double>() / (1 << 20), 0) + " MiB" : "-"; }

std::string seconds(const json& v) { return v.is_number() ? fixed(v.get<double>(), 1) + " s" : "-"; }

json field(const json& arm, const char* split, const char* metric) {
  if (!arm.contains(split) || !arm[split].contains(metric)) return nullptr;
  return arm[split][metric];
}

std::string vs_best(const json& arm, const json& sweep) {
  if (arm.value("status", "") != "complete") return "-";
  if (sweep.value("best_arm", json()) == arm["freeze_through"]) return "best";
  if (!arm.contains("vs_best")) return "-";
  const json& v = arm["vs_best"];
  return p_value(v.at("mcnemar_p")) + " (" + p_value(v.value("p_holm", json())) + ")";
}

std::string status_text(const json& arm) {
  const std::string s = arm.value("status", "");
  if (s == "failed") return "failed: " + arm.value("error", "");
  return s;
}

struct Column {
  std::string title;
  std::string (*cell)(const json& arm, const json& sweep);
};

const Column kColumns[] = {
    {"freeze through", [](const json& a, const json&) { return a.at("freeze_through").get<std::string>(); }},
    {"trainable", [](const json& a, const json&) { return params(a.value("trainable_parameters", json())); }},
    {"train time", [](const json& a, const json&) { return seconds(a.value("train_seconds", json())); }},
    {"img/s", [](const json& a, const json&) { return number_or_dash(a.value("images_per_s", json()), 1); }},
    {"peak RSS", [](const json& a, const json&) { return mebibytes(a.value("peak_rss_bytes", json())); }},
    {"val accuracy", [](const json& a, const json&) { return with_interval(field(a, "val", "accuracy")); }},
    {"test accuracy", [](const json& a, const json&) { return with_interval(field(a, "test", "accuracy")); }},
    {"test balanced acc.", [](const json& a, const json&) { return with_interval(field(a, "test", "balanced_accuracy")); }},
    {"test macro AUC", [](const json& a, const json&) { return with_interval(field(a, "test", "macro_auc")); }},
    {"vs best: McNemar p (Holm)", [](const json& a, const json& s) { return vs_best(a, s); }},
};

std::span<const Column> columns() { return kColumns; }

struct Plot {
  const char* file;
  const char* title;
  const char* caption;
  bool folds_only = false;  // made for k-fold sweeps only
};

const Plot kPlots[] = {
    {"accuracy_vs_cost.png", "Accuracy against training cost",
     "Each freeze point: test accuracy (left) and balanced accuracy (right) with their 95% intervals (dot and "
     "bar) and the validation values (diamond), against the time its training took. Freezing more trains faster; "
     "the bars show whether the accuracy it costs is more than the noise of the test set. Dashed lines: always "
     "answering the test split's most frequent class (accuracy), and chance, 1/K (balanced accuracy); a model near "
     "them has learnt little."},
    {"loss_curves.png", "Loss curves",
     "Training loss per step (faint: raw; solid: moving average) and validation loss per epoch, one colour per arm "
     "(in a k-fold sweep, each arm's fold-0 run)."},
    {"confusion.png", "Confusion matrices", "Each arm on the test split: rows are true classes, columns predictions."},
    {"by_fold.png", "Fold-to-fold spread",
     "Each arm's test accuracy in each fold (hollow markers) and their mean with its 95% corrected resampled t "
     "interval (dot and bar). Folds far apart mean one split's figure would have depended on which images it "
     "drew.",
     true},
};

std::string ci_display(const json& sweep) {
  const std::string m = sweep.value("ci_method", "");
  return m == "wilson" ? "Wilson" : m == "clopper-pearson" ? "Clopper-Pearson" : m;
}

std::string report_title(const json& sweep) {
  if (!is_fold_sweep(sweep)) return "Freeze-depth sweep";
  return "Freeze-depth sweep, " + std::to_string(sweep["folds"].get<int>()) + "-fold cross-validation";
}

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) out += (i == 0 ? "" : i + 1 == names.size() ? " and " : ", ") + names[i];
  return out;
}

// What a reader asks first: which arm, how sure, and which cheaper arms the test set cannot tell from
// it. `strong` wraps the best arm's name (<b> in HTML, ** in Markdown); names are escaped by `esc`.
std::string summary_sentence(const json& sweep, const char* strong_open, const char* strong_close,
                             std::string (*esc)(const std::string&)) {
  const json& best_name = sweep.value("best_arm", json());
  if (!best_name.is_string()) return "No arm finished.";
  const json* best = nullptr;
  for (const json& a : sweep.at("arms")) {
    if (a["freeze_through"] == best_name) best = &a;
  }
  std::ostringstream os;
  os << "Best by " << (is_fold_sweep(sweep) ? "mean " + selection_words(sweep) + " over the folds: " : selection_words(sweep) + ": ")
     << strong_open << esc(best_name.get<std::string>()) << strong_close;
  if (best != nullptr) {
    os << " (" << params(best->value("trainable_parameters", json())) << " trainable parameters; test accuracy "
       << with_interval(field(*best, "test", "accuracy")) << ").";
  }
  std::vector<std::string> differ, same;
  const json* cheapest = nullptr;
  for (const json& a : sweep.at("arms")) {
    if (!a.contains("vs_best")) continue;
    const std::string name = esc(a["freeze_through"].get<std::string>());
    if (a["vs_best"].value("p_holm", 1.0) < 0.05) {
      differ.push_back(name);
      continue;
    }
    same.push_back(name);
    const json& n = a.value("trainable_parameters", json());
    if (!n.is_number()) continue;
    if (cheapest == nullptr || n.get<double>() < cheapest->at("trainable_parameters").get<double>()) cheapest = &a;
  }
  if (differ.empty() && same.empty()) return os.str();
  os << " On the same test samples (McNemar's exact test, Holm-adjusted, 5% level): ";
  if (!differ.empty()) os << join_names(differ) << (differ.size() == 1 ? " differs" : " differ") << " from it";
  if (!differ.empty() && !same.empty()) os << "; ";
  if (!same.empty()) {
    os << join_names(same) << (same.size() == 1 ? " is" : " are")
       << " not shown to differ (not shown equal either: the intervals say how large a difference this test set "
          "could miss)";
  }
  os << '.';
  if (cheapest != nullptr && best != nullptr && best->value("trainable_parameters", json()).is_number() &&
      cheapest->at("trainable_parameters").get<double>() < best->at("trainable_parameters").get<double>()) {
    os << " The cheapest of those: " << esc(cheapest->at("freeze_through").get<std::string>()) << " ("
       << params(cheapest->at("trainable_parameters")) << " trainable, "
       << seconds(cheapest->value("train_seconds", json())) << " of training).";
  }
  return os.str();
}

std::string plain(const std::string& s) { return s; }

// How many samples the intervals rest on, where the splits came from, and where training started.
std::string splits_and_weights(const json& sweep) {
  std::ostringstream os;
  if (is_fold_sweep(sweep)) {
    const json& d = sweep.value("data", json::object());
    for (const json& a : sweep.at("arms")) {
      if (a.value("status", "") != "complete") continue;
      os << sweep["folds"].get<int>() << " folds of " << a["test"].value("samples", 0)
         << " test images in all, each tested once per arm; ";
      break;
    }
    os << "validation: --val-fraction " << json(d.value("val_fraction", 0.0)).dump()
       << " of each fold's training images, seed " << d.value("seed", 0);
    if (sweep.contains("weights")) {
      os << "; weights "
         << (sweep["weights"].is_string() ? sweep["weights"].get<std::string>()
                                          : std::string("none: a seeded random initialisation"));
    }
    return os.str();
  }
  for (const json& a : sweep.at("arms")) {
    if (a.value("status", "") != "complete") continue;
    os << "validation " << a["val"].value("samples", 0) << " and test " << a["test"].value("samples", 0)
       << " samples";
    break;
  }
  const json& d = sweep.value("data", json::object());
  std::string carved;
  for (const char* f : {"val_fraction", "test_fraction"}) {
    const double v = d.value(f, 0.0);
    if (v == 0) continue;
    carved += std::string(carved.empty() ? "" : ", ") + (f[0] == 'v' ? "--val-fraction " : "--test-fraction ");
    carved += json(v).dump();
  }
  if (!carved.empty()) {
    os << (os.tellp() > 0 ? " " : "") << "(" << carved << " of train, seed " << d.value("seed", 0) << ")";
  }
  if (sweep.contains("weights")) {
    os << (os.tellp() > 0 ? "; " : "") << "weights "
       << (sweep["weights"].is_string() ? sweep["weights"].get<std::string>()
                                        : std::string("none: a seeded random initialisation"));
  }
  return os.str();
}

}  // namespace

std::string with_interval(const json& v) {
  if (!v.is_object() || !v.value("estimate", json()).is_number()) return "-";
  return fixed(v["estimate"].get<double>(), 3) + " [" + number_or_dash(v.value("lo", json()), 3) + ", " +
         number_or_dash(v.value("hi", json()), 3) + "]";
}

std::string base64(const std::string& bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v = (uint32_t(uint8_t(bytes[i])) << 16) | (uint32_t(uint8_t(bytes[i + 1])) << 8) | uint8_t(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(v >> s) & 63];
  }
  if (i < bytes.size()) {
    const bool two = i + 1 < bytes.size();
    const uint32_t v = (uint32_t(uint8_t(bytes[i])) << 16) | (two ? uint32_t(uint8_t(bytes[i + 1])) << 8 : 0);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += two ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string sweep_csv(const json& sweep) {
  std::ostringstream os;
  os << "freeze_through,status,error,trainable_parameters,steps,train_seconds,wall_seconds,images_per_s,peak_rss_bytes";
  for (const char* split : {"val", "test"}) {
    for (const char* m : {"accuracy", "balanced_accuracy", "macro_f1", "macro_auc"}) {
      os << ',' << split << '_' << m << ',' << split << '_' << m << "_lo," << split << '_' << m << "_hi";
    }
  }
  os << ",best_arm,mcnemar_p_vs_best,p_holm\n";
  auto num = [](const json& v) { return v.is_number() ? v.dump() : std::string(); };
  for (const json& a : sweep.at("arms")) {
    os << csv_field(a.at("freeze_through").get<std::string>()) << ',' << a.value("status", "") << ','
       << csv_field(a.value("error", "")) << ',' << num(a.value("trainable_parameters", json())) << ','
       << num(a.value("steps", json())) << ',' << num(a.value("train_seconds", json())) << ','
       << num(a.value("wall_seconds", json())) << ',' << num(a.value("images_per_s", json())) << ','
       << num(a.value("peak_rss_bytes", json()));
    for (const char* split : {"val", "test"}) {
      for (const char* m : {"accuracy", "balanced_accuracy", "macro_f1", "macro_auc"}) {
        const json& v = field(a, split, m);
        os << ',' << (v.is_object() ? num(v["estimate"]) : "") << ',' << (v.is_object() ? num(v["lo"]) : "") << ','
           << (v.is_object() ? num(v["hi"]) : "");
      }
    }
    const bool best = sweep.value("best_arm", json()) == a["freeze_through"];
    os << ',' << (best ? "yes" : "no") << ',' << (a.contains("vs_best") ? num(a["vs_best"]["mcnemar_p"]) : "") << ','
       << (a.contains("vs_best") ? num(a["vs_best"].value("p_holm", json())) : "") << '\n';
  }
  return os.str();
}

std::string sweep_table(const json& sweep) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> head;
  for (const Column& c : columns()) head.push_back(c.title);
  rows.push_back(head);
  for (const json& a : sweep.at("arms")) {
    std::vector<std::string> r;
    for (const Column& c : columns()) r.push_back(c.cell(a, sweep));
    rows.push_back(r);
  }
  std::vector<size_t> width(head.size(), 0);
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  }
  std::ostringstream os;
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) os << std::left << std::setw(static_cast<int>(width[i]) + 2) << r[i];
    os << '\n';
  }
  for (const json& a : sweep.at("arms")) {
    if (a.value("status", "") == "failed") os << a["freeze_through"].get<std::string>() << ": " << status_text(a) << '\n';
  }
  const json& best = sweep.value("best_arm", json());
  if (best.is_string()) {
    os << "best by " << (is_fold_sweep(sweep) ? "mean " + selection_words(sweep) + " over the folds: " : selection_words(sweep) + ": ")
       << best.get<std::string>() << "; intervals 95% ("
       << ci_display(sweep) << " for accuracy, bootstrap for balanced accuracy, macro AUC)\n";
  }
  return os.str();
}

std::string sweep_markdown(const json& sweep, bool with_plots) {
  std::ostringstream os;
  os << "# " << report_title(sweep) << "\n\n";
  os << "- data: `" << sweep["data"].value("spec", "") << "`";
  if (!sweep["data"].value("class_subset", "").empty()) os << ", classes " << sweep["data"]["class_subset"].get<std::string>();
  os << "\n- " << splits_and_weights(sweep) << "\n- command: `" << sweep.value("command", "") << "`\n- created: "
     << sweep.value("created_utc", "") << "\n\n";
  os << "| ";
  for (const Column& c : columns()) os << c.title << " | ";
  os << "status |\n|";
  for (size_t i = 0; i <= columns().size(); ++i) os << " --- |";
  os << '\n';
  for (const json& a : sweep.at("arms")) {
    os << "| ";
    for (const Column& c : columns()) os << c.cell(a, sweep) << " | ";
    os << status_text(a) << " |\n";
  }
  os << '\n' << summary_sentence(sweep, "**", "**", plain) << "\n\nIntervals are 95%: " << ci_display(sweep)
     << " for accuracy, a seeded bootstrap for balanced accuracy and macro AUC. The best arm is chosen on the "
        "validation split; every other arm is compared with it on the test split by McNemar's exact test, "
        "the p-values Holm-adjusted across the comparisons (in brackets).\n";
  if (is_fold_sweep(sweep)) os << fold_markdown(sweep);
  os << arm_provenance_markdown(sweep);
  if (with_plots) {
    for (const Plot& p : kPlots) {
      if (p.folds_only && !is_fold_sweep(sweep)) continue;
      os << "\n## " << p.title << "\n\n![" << p.title << "](plots/" << p.file << ")\n\n" << p.caption << "\n";
    }
  } else {
    os << "\n(No plots: scripts/sweep-plots did not run; see the sweep's log.)\n";
  }
  return os.str();
}

std::string sweep_html(const json& sweep, const fs::path& plots_dir) {
  std::ostringstream os;
  os << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>thaw sweep report</title>\n<style>\n"
        "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;max-width:1280px;color:#222;"
        "padding:0 1em;line-height:1.45}\n"
        "h1{font-size:1.6em;margin-bottom:0.2em}h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #ddd}\n"
        "table{border-collapse:collapse;font-size:0.9em;margin:1em 0}\n"
        "th,td{border:1px solid #ccc;padding:0.35em 0.6em;text-align:right;white-space:nowrap}\n"
        "th{background:#f2f4f7;white-space:normal;vertical-align:bottom}\n"
        "td:first-child,th:first-child{text-align:left;font-weight:600}\n"
        ".wide{overflow-x:auto}\n"
        "tr.best td{background:#eaf6ea}tr.failed td{background:#fbeaea;color:#8a1f11}\n"
        "code{background:#f4f4f4;padding:0.1em 0.3em;border-radius:3px;font-size:0.9em;overflow-wrap:anywhere}\n"
        ".meta{color:#555;font-size:0.92em}.note{color:#444;font-size:0.9em;max-width:60em}\n"
        "img{max-width:100%;border:1px solid #e3e3e3;margin:0.5em 0}\n"
        ".error{color:#8a1f11;font-family:monospace;white-space:pre-wrap}\n"
        "</style></head><body>\n";
  os << "<h1>" << report_title(sweep) << "</h1>\n<p class=\"meta\">data <code>" << html_escape(sweep["data"].value("spec", "")) << "</code>";
  if (!sweep["data"].value("class_subset", "").empty()) {
    os << ", classes " << html_escape(sweep["data"]["class_subset"].get<std::string>());
  }
  os << " &middot; created " << html_escape(sweep.value("created_utc", "")) << "<br>"
     << html_escape(splits_and_weights(sweep)) << "<br>command <code>"
     << html_escape(sweep.value("command", "")) << "</code></p>\n";
  os << "<p>" << summary_sentence(sweep, "<b>", "</b>", html_escape) << "</p>\n<div class=\"wide\"><table>\n<tr>";
  for (const Column& c : columns()) os << "<th>" << html_escape(c.title) << "</th>";
  os << "</tr>\n";
  for (const json& a : sweep.at("arms")) {
    const bool best = sweep.value("best_arm", json()) == a["freeze_through"];
    const bool failed = a.value("status", "") == "failed";
    os << "<tr" << (best ? " class=\"best\"" : failed ? " class=\"failed\"" : "") << ">";
    for (const Column& c : columns()) {
      std::string cell = c.cell(a, sweep);
      if (&c == &columns().front() && a.value("status", "") != "complete") cell += " (" + a.value("status", "") + ")";
      os << "<td>" << html_escape(cell) << "</td>";
    }
    os << "</tr>\n";
  }
  os << "</table></div>\n";
  for (const json& a : sweep.at("arms")) {
    if (a.value("status", "") == "failed") {
      os << "<p><b>" << html_escape(a["freeze_through"].get<std::string>()) << "</b> failed:</p><p class=\"error\">"
         << html_escape(a.value("error", "")) << "</p>\n";
    }
  }
  os << "<p class=\"note\">Intervals are 95%: " << html_escape(ci_display(sweep))
     << " for accuracy, a seeded bootstrap for balanced accuracy and macro AUC. The best arm is chosen on the "
        "validation split, never on the test split; every other arm is compared with it on the same test samples "
        "by McNemar's exact test, and the p-values are Holm-adjusted across those comparisons (in brackets). "
        "Peak RSS is the arm's training process's maximum resident memory.</p>\n";
  if (is_fold_sweep(sweep)) os << fold_html(sweep);
  os << arm_provenance_html(sweep);
  bool any = false;
  for (const Plot& p : kPlots) {
    if (plots_dir.empty()) break;
    const fs::path f = plots_dir / p.file;
    std::error_code ec;
    if (!fs::exists(f, ec)) continue;
    any = true;
    os << "<h2>" << p.title << "</h2>\n<img alt=\"" << p.title << "\" src=\"data:image/png;base64,"
       << base64(read_file_or_empty(f)) << "\">\n<p class=\"note\">" << p.caption << "</p>\n";
  }
  if (!any) os << "<p class=\"note\">No plots: scripts/sweep-plots did not run (see the sweep's log).</p>\n";
  os << "</body></html>\n";
  return os.str();
}

void write_sweep_report(const json& sweep, const fs::path& dir, const fs::path& plot_script, std::ostream& log) {
  write_file_atomic(dir / "sweep.csv", sweep_csv(sweep));
  if (is_fold_sweep(sweep)) write_file_atomic(dir / "sweep_folds.csv", sweep_folds_csv(sweep));
  const fs::path plots = dir / "plots";
  bool plotted = false;
  std::error_code ec;
  if (!plot_script.empty() && fs::exists(plot_script, ec)) {
    fs::create_directories(plots, ec);
    const ChildResult r = run_child({"/usr/bin/python3", plot_script.string(), dir.string()}, plots / "plots.log", false);
    plotted = r.exit_code == 0;
    if (!plotted) {
      log << "thaw: warning: " << plot_script.string() << " failed (see " << (plots / "plots.log").string()
          << "); the report has no plots\n";
    }
  } else if (!plot_script.empty()) {
    log << "thaw: warning: " << plot_script.string() << " not found; the report has no plots\n";
  }
  write_file_atomic(dir / "report.md", sweep_markdown(sweep, plotted));
  write_file_atomic(dir / "report.html", sweep_html(sweep, plotted ? plots : fs::path()));
}

}  // namespace thaw
