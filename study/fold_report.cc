#include "study/fold_report.h"

#include <sstream>
#include <vector>

#include "io/csv.h"
#include "study/report_format.h"
#include "study/sweep.h"
#include "study/sweep_report.h"

namespace thaw {

namespace {

using json = nlohmann::json;

// A k-fold sweep's table by fold: each arm's test accuracy in each fold, their mean with the
// corrected interval, and the corrected paired t-test against the best arm. First row: the titles.
std::vector<std::vector<std::string>> fold_rows(const json& sweep) {
  const int k = sweep["folds"].get<int>();
  std::vector<std::vector<std::string>> rows(1, {"freeze through"});
  for (int f = 0; f < k; ++f) rows[0].push_back("fold " + std::to_string(f));
  rows[0].push_back("mean [corrected interval]");
  rows[0].push_back("vs best: corrected t p");
  for (const json& a : sweep.at("arms")) {
    std::vector<std::string> r = {a.at("freeze_through").get<std::string>()};
    for (int f = 0; f < k; ++f) {
      const json& bf = a.value("by_fold", json::array());
      r.push_back(static_cast<size_t>(f) < bf.size() ? fixed(bf[static_cast<size_t>(f)].at("test_accuracy").get<double>(), 3)
                                                      : "-");
    }
    r.push_back(a.contains("across_folds") ? with_interval(a["across_folds"]["accuracy"]) : "-");
    const bool best = a.value("status", "") == "complete" && sweep.value("best_arm", json()) == a["freeze_through"];
    r.push_back(best ? "best" : a.contains("vs_best") ? p_value(a["vs_best"].value("corrected_t_p", json())) : "-");
    rows.push_back(std::move(r));
  }
  return rows;
}

std::string fold_note(const json& sweep) {
  const int k = sweep["folds"].get<int>();
  std::ostringstream os;
  os << "Each arm was trained " << k << " times, once per fold; each fold was in turn its test split, so every "
     << "image was tested once, by a model that never trained on it. The main table's test columns evaluate these "
        "out-of-fold predictions as one test set (their intervals treat the images as independent and leave out "
        "the variation between the "
     << k << " models); its validation columns, and the mean below, are means over the folds with Nadeau and "
        "Bengio's corrected resampled t interval (variance (1/K + 1/(K-1)) s^2, K-1 degrees of freedom), which "
        "counts that variation and the folds' overlapping training sets. The best arm has the highest mean "
     << selection_words(sweep) << ". Against it: McNemar's exact test on the pooled test predictions (main table, "
        "Holm-adjusted) and the corrected resampled paired t-test of the folds' test accuracies (table by fold). "
        "Each fold's own sweep and report are in its fold-N folder.";
  return os.str();
}

}  // namespace

bool is_fold_sweep(const json& sweep) { return sweep.value("folds", 0) > 0; }

std::string fold_markdown(const json& sweep) {
  return "\n## Test accuracy by fold\n\n" + markdown_table(fold_rows(sweep)) + "\n" + fold_note(sweep) + "\n";
}

std::string fold_html(const json& sweep) {
  return "<h2>Test accuracy by fold</h2>\n" + html_table(fold_rows(sweep)) + "<p class=\"note\">" +
         html_escape(fold_note(sweep)) + "</p>\n";
}

std::string sweep_folds_csv(const json& sweep) {
  std::ostringstream os;
  os << "freeze_through,fold,val_samples,test_samples";
  for (const char* split : {"val", "test"}) {
    for (const char* m : {"accuracy", "balanced_accuracy", "macro_f1", "macro_auc"}) os << ',' << split << '_' << m;
  }
  os << '\n';
  for (const json& a : sweep.at("arms")) {
    for (const json& r : a.value("by_fold", json::array())) {
      os << csv_field(a.at("freeze_through").get<std::string>()) << ',' << r.at("fold").dump() << ','
         << r.at("val_samples").dump() << ',' << r.at("test_samples").dump();
      for (const char* split : {"val_", "test_"}) {
        for (const char* m : {"accuracy", "balanced_accuracy", "macro_f1", "macro_auc"}) {
          os << ',' << r.value(std::string(split) + m, json()).dump();
        }
      }
      os << '\n';
    }
  }
  return os.str();
}

}  // namespace thaw
