#include "study/validation_report.h"

#include <algorithm>

#include "core/error.h"
#include "core/utc_now.h"
#include "engine/run/record_read.h"
#include "io/atomic_file.h"
#include "io/file_bytes.h"
#include "stats/calibration.h"
#include "stats/curves.h"
#include "stats/predictions.h"
#include "study/child_process.h"
#include "study/eval_files.h"
#include "study/eval_model.h"
#include "study/intended_use.h"
#include "study/run_provenance.h"
#include "study/subgroups.h"
#include "study/validation_html.h"

namespace thaw {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// The run's predictions on one split: the files in the run folder when they are of these weights,
// else a fresh evaluation.
Predictions split_predictions(const ValidationRequest& r, DataSplit split, const std::string& weights_sha,
                              std::ostream& log) {
  const std::string name = split_name(split);
  const fs::path csv = r.run / ("predictions-" + name + ".csv");
  const fs::path ej = r.run / ("eval-" + name + ".json");
  if (fs::exists(csv) && fs::exists(ej)) {
    const json e = json::parse(read_file_bytes(ej), nullptr, false);
    if (!e.is_discarded() && e.value("model_sha256", "") == weights_sha) {
      log << "thaw: report: " << name << " predictions from " << csv.string() << " (these weights)\n";
      return read_predictions(csv);
    }
  }
  log << "thaw: report: evaluating the run on its " << name << " split\n";
  EvalFilesRequest q;
  q.stats = r.stats;
  q.stats.positive.clear();
  q.stats.threshold.reset();
  q.batch_size = r.eval_batch_size;
  q.batch_flag = "--eval-batch-size";
  q.limit = r.test_limit;
  evaluate_run(r.run, split, q);
  return read_predictions(csv);
}

json counts_of(const Predictions& p) {
  std::vector<int64_t> n(static_cast<size_t>(p.num_classes()), 0);
  for (int label : p.labels) ++n[static_cast<size_t>(label)];
  return n;
}

json reliability_json(const Reliability& r) {
  json table = json::array();
  for (const ReliabilityBin& b : r.table) {
    table.push_back({{"lo", b.lo}, {"hi", b.hi}, {"count", b.count}, {"mean_predicted", b.mean_predicted},
                     {"observed", b.observed}});
  }
  return {{"ece", r.ece}, {"table", table}};
}

// The figures at the operating point (chosen on validation) and at the model's own call.
void add_performance(json& doc, const ValidationRequest& r, const Predictions& val, const Predictions& test) {
  const int vpos = val.class_index(r.positive);
  if (vpos < 0) fail_user("--positive: '", r.positive, "' is not in ", val.source, "'s classes");
  const OperatingPoint op = youden_point(val.class_scores(vpos), val.is_class(vpos));
  doc["operating_point"] = {{"threshold", op.threshold},
                            {"rule", "p(positive) >= threshold"},
                            {"chosen_by", "Youden's J (sensitivity + specificity - 1) on the validation split"},
                            {"val_samples", val.size()},
                            {"val_sensitivity", op.sensitivity},
                            {"val_specificity", op.specificity}};
  EvalOptions at = r.stats;
  at.positive = r.positive;
  at.threshold = op.threshold;
  const json at_threshold = evaluate_predictions(test, at);
  at.threshold.reset();
  const json at_call = evaluate_predictions(test, at);
  doc["test"] = {{"samples", test.size()},
                 {"at_operating_point", at_threshold.at("binary")},
                 {"at_model_call", at_call.at("binary")},
                 {"accuracy", at_call.at("accuracy")},
                 {"balanced_accuracy", at_call.at("balanced_accuracy")},
                 {"per_class", at_call.at("per_class")}};
}

void add_curves_and_calibration(json& doc, const ValidationRequest& r, const Predictions& test) {
  const int pos = test.class_index(r.positive);
  const std::vector<double> scores = test.class_scores(pos);
  const std::vector<uint8_t> truth = test.is_class(pos);
  const RocCurve roc = roc_curve(scores, truth);
  const PrCurve pr = precision_recall_curve(scores, truth);
  const json& b = doc["test"]["at_operating_point"];
  doc["curves"] = {{"roc", {{"fpr", roc.fpr}, {"tpr", roc.tpr}, {"thresholds", roc.thresholds}}},
                   {"pr", {{"precision", pr.precision}, {"recall", pr.recall}, {"thresholds", pr.thresholds},
                           {"average_precision", pr.average_precision}}},
                   {"auc", b.at("auc")},
                   {"operating_point", {{"fpr", 1 - b.at("specificity").value("estimate", 0.0)},
                                        {"tpr", b.at("sensitivity").value("estimate", 0.0)},
                                        {"precision", b.at("ppv").value("estimate", json(nullptr))}}}};
  doc["calibration"] = {
      {"bins", r.bins},
      {"binning", "equal-width bins of [0, 1]; a probability on an inner edge in the lower bin (scikit-learn's "
                  "calibration_curve, strategy uniform); empty bins left out"},
      {"positive", reliability_json(reliability(scores, truth, r.bins))},
      {"positive_brier", brier_score(scores, truth)},
      {"top_label", reliability_json(reliability(top_probability(test), prediction_correct(test), r.bins))},
      {"multiclass_brier", multiclass_brier(test)}};
}

void write_outputs(const ValidationRequest& r, const json& doc, std::ostream& log) {
  fs::create_directories(r.out);
  write_file_atomic(r.out / "validation.json", doc.dump(2) + "\n");
  bool plotted = false;
  if (!r.plot_script.empty()) {
    fs::create_directories(r.out / "plots");
    const ChildResult c = run_child({"/usr/bin/python3", r.plot_script.string(), r.out.string()},
                                    r.out / "plots" / "plots.log", false);
    plotted = c.exit_code == 0;
    if (!plotted) {
      log << "thaw: warning: " << r.plot_script.string() << " failed (see " << (r.out / "plots" / "plots.log").string()
          << "); the report has no plots\n";
    }
  }
  write_file_atomic(r.out / "validation.html", validation_html(doc, plotted ? r.out / "plots" : fs::path()));
  if (!r.pdf_script.empty()) {
    const ChildResult c = run_child({r.pdf_script.string(), (r.out / "validation.html").string(),
                                     (r.out / "validation.pdf").string()},
                                    r.out / "pdf.log", false);
    if (c.exit_code != 0) fail_user("--pdf: ", r.pdf_script.string(), " failed (see ", (r.out / "pdf.log").string(), ")");
  }
}

// The run's record (a finished run), and the class checked against its model before any evaluation,
// which can take minutes.
nlohmann::ordered_json checked_run(const ValidationRequest& r) {
  const fs::path record_file = r.run / "record.json";
  if (!fs::is_regular_file(record_file)) fail_user("RUN_DIR: ", record_file.string(), " not found (expected a thaw run folder)");
  nlohmann::ordered_json record = parse_record(read_file_bytes(record_file), record_file.string());
  if (record.value("status", "") != "complete" || !fs::exists(r.run / "weights.safetensors")) {
    fail_user("RUN_DIR: ", r.run.string(), ": the run did not finish (no weights.safetensors); nothing to report");
  }
  if (r.bins < 2 || r.bins > 100) fail_user("--bins: expected 2 to 100 reliability bins, got ", r.bins);
  const std::vector<std::string> classes = model_class_names(run_for_eval(r.run).model);
  if (std::find(classes.begin(), classes.end(), r.positive) == classes.end()) {
    std::string names;
    for (const std::string& c : classes) names += (names.empty() ? "" : ", ") + c;
    fail_user("--positive: '", r.positive, "' is not a class of the model (", names, ")");
  }
  if (record.contains("config")) check_subgroup_columns(record["config"].value("data", ""), r.subgroups);
  return record;
}

}  // namespace

json write_validation_report(const ValidationRequest& r, std::ostream& log) {
  const nlohmann::ordered_json record = checked_run(r);
  const IntendedUse use = r.intended_use.empty() ? IntendedUse{} : read_intended_use(r.intended_use);
  // The weights' SHA-256 once, for the provenance and to know whose predictions the folder holds.
  const json provenance = run_provenance(r.run);
  const std::string weights_sha = provenance.at("weights_sha256").get<std::string>();
  const Predictions val = split_predictions(r, DataSplit::Val, weights_sha, log);
  const Predictions test = split_predictions(r, DataSplit::Test, weights_sha, log);

  json doc;
  doc["format"] = kValidationFormat;
  doc["version"] = 1;
  doc["created_utc"] = utc_now();
  doc["run_dir"] = fs::absolute(r.run).lexically_normal().string();
  doc["provenance"] = provenance;
  doc["intended_use"] = json::array();
  for (const auto& [key, texts] : use.fields) doc["intended_use"].push_back({{"field", key}, {"texts", texts}});
  doc["intended_use_file"] = r.intended_use.empty() ? json(nullptr) : json(r.intended_use.string());
  doc["classes"] = test.classes;
  json counts = {{"val", counts_of(val)}, {"test", counts_of(test)}};
  if (record.contains("data") && record["data"].contains("splits") && record["data"]["splits"].contains("train")) {
    counts["train"] = json::parse(record["data"]["splits"]["train"]["counts_per_class"].dump());
  }
  doc["counts"] = counts;
  doc["positive"] = r.positive;
  doc["ci_method"] = ci_method_name(r.stats.ci);
  doc["confidence"] = r.stats.confidence;
  add_performance(doc, r, val, test);
  add_curves_and_calibration(doc, r, test);
  doc["subgroups"] = subgroup_tables(record["config"].value("data", ""), r.subgroups, test, r.positive,
                                     doc["operating_point"]["threshold"].get<double>(), r.stats);
  write_outputs(r, doc, log);
  return doc;
}

}  // namespace thaw
