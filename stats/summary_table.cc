#include "stats/summary_table.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "stats/json_values.h"

namespace thaw {

namespace {

std::string fixed(double v, int decimals = 3) {
  if (std::isnan(v)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// "0.812 [0.743, 0.868]" from any {estimate, lo, hi} object.
std::string with_interval(const nlohmann::json& v) {
  const double e = number_of(v["estimate"]);
  if (std::isnan(e)) return "-";
  const double lo = number_of(v["lo"]), hi = number_of(v["hi"]);
  if (std::isnan(lo) || std::isnan(hi)) return fixed(e);
  return fixed(e) + " [" + fixed(lo) + ", " + fixed(hi) + "]";
}

std::string pad(const std::string& s, size_t width, bool right = false) {
  if (s.size() >= width) return s;
  return right ? std::string(width - s.size(), ' ') + s : s + std::string(width - s.size(), ' ');
}

std::string p_value(double p) {
  if (p < 1e-4) return "<0.0001";
  return fixed(p, 4);
}

void comparison(std::ostringstream& os, const nlohmann::json& c) {
  os << "\ncomparison: " << c["a"].get<std::string>() << " (A) vs " << c["b"].get<std::string>() << " (B), "
     << c["samples"] << " samples matched by " << c["matched_by"].get<std::string>() << "; p-values Holm-adjusted over "
     << c["holm_family"] << " tests\n";
  os << "  accuracy A " << with_interval(c["accuracy_a"]) << ", B " << with_interval(c["accuracy_b"]) << "\n";
  const nlohmann::json& m = c["mcnemar"];
  os << "  McNemar exact: only A right " << m["only_a_correct"] << ", only B right " << m["only_b_correct"]
     << ", p " << p_value(m["p"].get<double>()) << ", Holm " << p_value(m["p_holm"].get<double>()) << "\n";
  for (const nlohmann::json& d : c["delong"]) {
    os << "  DeLong AUC " << pad(d["class"].get<std::string>(), 12) << " A " << fixed(d["auc_a"].get<double>())
       << ", B " << fixed(d["auc_b"].get<double>()) << ", diff " << fixed(d["difference"].get<double>()) << ", p "
       << p_value(d["p"].get<double>()) << ", Holm " << p_value(d["p_holm"].get<double>()) << "\n";
  }
  for (const nlohmann::json& s : c["delong_skipped"]) {
    os << "  DeLong AUC " << s.get<std::string>() << ": not tested (fewer than two positives or negatives)\n";
  }
}

}  // namespace

std::string summary_table(const nlohmann::json& e) {
  std::ostringstream os;
  const nlohmann::json& boot = e["bootstrap"];
  os << e["predictions"].get<std::string>() << ": " << e["samples"] << " samples, " << e["classes"].size()
     << " classes; " << fixed(100.0 * e["confidence"].get<double>(), 0) << "% intervals: "
     << e["ci_method"].get<std::string>() << " for proportions, DeLong for AUCs, bootstrap ("
     << boot["replicates"] << " replicates over " << boot["units"] << " " << boot["unit"].get<std::string>()
     << "s, seed " << boot["seed"] << ") for macro metrics\n\n";
  os << "  accuracy           " << with_interval(e["accuracy"]);
  if (boot["unit"] == "group") {
    // Samples of one group are not independent: the binomial interval is too narrow then.
    const nlohmann::json& b = e["accuracy"]["bootstrap"];
    os << "  (resampling whole groups: [" << fixed(number_of(b["lo"])) << ", " << fixed(number_of(b["hi"])) << "])";
  }
  os << "\n";
  os << "  balanced accuracy  " << with_interval(e["balanced_accuracy"]) << "\n";
  os << "  macro F1           " << with_interval(e["macro"]["f1"]) << "\n";
  os << "  macro AUC          " << with_interval(e["macro"]["auc"]) << "\n\n";

  size_t name_w = 5;
  for (const nlohmann::json& c : e["per_class"]) name_w = std::max(name_w, c["class"].get<std::string>().size());
  constexpr size_t kCell = 22;
  os << pad("class", name_w) << "  " << pad("n", 6, true) << "  " << pad("sensitivity", kCell) << pad("specificity", kCell)
     << pad("PPV", kCell) << pad("NPV", kCell) << pad("F1", kCell) << "AUC\n";
  for (const nlohmann::json& c : e["per_class"]) {
    os << pad(c["class"].get<std::string>(), name_w) << "  " << pad(std::to_string(c["support"].get<int64_t>()), 6, true)
       << "  " << pad(with_interval(c["sensitivity"]), kCell) << pad(with_interval(c["specificity"]), kCell)
       << pad(with_interval(c["ppv"]), kCell) << pad(with_interval(c["npv"]), kCell)
       << pad(with_interval(c["f1"]), kCell) << with_interval(c["auc"]) << "\n";
  }
  if (boot["unit"] == "group") {
    os << "(per-class proportions and AUCs treat samples as independent; F1 and the macro metrics resample groups)\n";
  }

  const nlohmann::json& counts = e["confusion_matrix"]["counts"];
  os << "\nconfusion matrix (rows: true class, columns: predicted)\n" << pad("", name_w);
  size_t cell = 6;
  for (const nlohmann::json& c : e["classes"]) cell = std::max(cell, c.get<std::string>().size() + 1);
  for (const nlohmann::json& c : e["classes"]) os << pad(c.get<std::string>(), cell, true);
  os << "\n";
  for (size_t t = 0; t < counts.size(); ++t) {
    os << pad(e["classes"][t].get<std::string>(), name_w);
    for (const nlohmann::json& v : counts[t]) os << pad(std::to_string(v.get<int64_t>()), cell, true);
    os << "\n";
  }

  if (e.contains("binary")) {
    const nlohmann::json& b = e["binary"];
    os << "\nbinary view: positive '" << b["positive"].get<std::string>() << "', "
       << (b["threshold"].is_null() ? std::string("as predicted") : "p >= " + fixed(b["threshold"].get<double>(), 4))
       << ": TP " << b["tp"] << ", FP " << b["fp"] << ", FN " << b["fn"] << ", TN " << b["tn"] << "\n";
    os << "  sensitivity " << with_interval(b["sensitivity"]) << ", specificity " << with_interval(b["specificity"])
       << "\n  PPV " << with_interval(b["ppv"]) << ", NPV " << with_interval(b["npv"]) << ", AUC "
       << with_interval(b["auc"]) << "\n";
  }
  if (e.contains("comparison")) comparison(os, e["comparison"]);
  return os.str();
}

}  // namespace thaw
