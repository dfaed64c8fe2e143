#include "stats/evaluation.h"

#include <cmath>
#include <string>
#include <vector>

#include "core/error.h"
#include "stats/bootstrap.h"
#include "stats/confusion.h"
#include "stats/json_values.h"
#include "stats/roc_auc.h"

namespace thaw {

void check_eval_options(const Predictions& p, const EvalOptions& o) {
  if (o.bootstrap_replicates < 1) fail_user("--bootstrap: expected at least 1 replicate, got ", o.bootstrap_replicates);
  if (o.threshold && o.positive.empty()) fail_user("--threshold: needs --positive CLASS (the class the threshold applies to)");
  if (o.threshold && !(*o.threshold >= 0.0 && *o.threshold <= 1.0)) {
    fail_user("--threshold: expected a probability in [0, 1], got ", *o.threshold);
  }
  if (!o.positive.empty() && p.class_index(o.positive) < 0) {
    std::string names;
    for (const std::string& c : p.classes) names += (names.empty() ? "" : ", ") + c;
    fail_user("--positive: expected one of the classes of ", p.source, " (", names, "), got '", o.positive, "'");
  }
}

namespace {

// Statistics recomputed in every bootstrap replicate, in this order.
enum BootIndex : size_t { kAccuracy, kSensitivity, kSpecificity, kPpv, kNpv, kF1, kAuc, kPerClassF1 };

nlohmann::json binary_view(const Predictions& p, const EvalOptions& o) {
  const int pos = p.class_index(o.positive);
  ClassCounts k;
  for (int64_t i = 0; i < p.size(); ++i) {
    const bool truth = p.labels[i] == pos;
    const bool called = o.threshold ? p.prob(i, pos) >= *o.threshold : p.predicted[i] == pos;
    (truth ? (called ? k.tp : k.fn) : (called ? k.fp : k.tn)) += 1;
  }
  const std::vector<double> scores = p.class_scores(pos);
  const std::vector<uint8_t> truth = p.is_class(pos);
  nlohmann::json j;
  j["positive"] = o.positive;
  j["threshold"] = o.threshold ? nlohmann::json(*o.threshold) : nlohmann::json(nullptr);
  j["rule"] = o.threshold ? "p(positive) >= threshold" : "predicted == positive";
  j["tp"] = k.tp;
  j["fp"] = k.fp;
  j["fn"] = k.fn;
  j["tn"] = k.tn;
  j["sensitivity"] = proportion_json(proportion(k.tp, k.tp + k.fn, o.ci, o.confidence), o.ci);
  j["specificity"] = proportion_json(proportion(k.tn, k.tn + k.fp, o.ci, o.confidence), o.ci);
  j["ppv"] = proportion_json(proportion(k.tp, k.tp + k.fp, o.ci, o.confidence), o.ci);
  j["npv"] = proportion_json(proportion(k.tn, k.tn + k.fn, o.ci, o.confidence), o.ci);
  j["accuracy"] = proportion_json(proportion(k.tp + k.tn, p.size(), o.ci, o.confidence), o.ci);
  j["f1"] = number_or_null(class_rates(k).f1);
  j["auc"] = auc_json(auc_delong(scores, truth, o.confidence));
  return j;
}

// One class's counts, one-vs-rest rates with intervals, and AUC (its F1 is added with the bootstrap's).
nlohmann::json class_json(const std::string& name, const ClassCounts& n, const AucEstimate& auc,
                          const EvalOptions& o) {
  return {{"class", name},
          {"support", n.tp + n.fn},
          {"predicted", n.tp + n.fp},
          {"tp", n.tp},
          {"fp", n.fp},
          {"fn", n.fn},
          {"tn", n.tn},
          {"sensitivity", proportion_json(proportion(n.tp, n.tp + n.fn, o.ci, o.confidence), o.ci)},
          {"specificity", proportion_json(proportion(n.tn, n.tn + n.fp, o.ci, o.confidence), o.ci)},
          {"ppv", proportion_json(proportion(n.tp, n.tp + n.fp, o.ci, o.confidence), o.ci)},
          {"npv", proportion_json(proportion(n.tn, n.tn + n.fn, o.ci, o.confidence), o.ci)},
          {"auc", auc_json(auc)}};
}

// The confusion matrix's counts, rows the true class.
nlohmann::json counts_json(const ConfusionMatrix& cm, int k) {
  nlohmann::json counts = nlohmann::json::array();
  for (int t = 0; t < k; ++t) {
    nlohmann::json row = nlohmann::json::array();
    for (int q = 0; q < k; ++q) row.push_back(cm.at(t, q));
    counts.push_back(row);
  }
  return counts;
}

}  // namespace

nlohmann::json evaluate_predictions(const Predictions& p, const EvalOptions& o) {
  check_eval_options(p, o);
  const int k = p.num_classes();
  const ConfusionMatrix cm = confusion_matrix(p.labels, p.predicted, k);
  const MacroRates macro = macro_rates(cm);

  std::vector<RankedScores> ranked;
  std::vector<double> aucs(k);
  nlohmann::json per_class = nlohmann::json::array();
  for (int c = 0; c < k; ++c) {
    const std::vector<double> scores = p.class_scores(c);
    const std::vector<uint8_t> truth = p.is_class(c);
    ranked.emplace_back(scores, truth);
    const AucEstimate auc = auc_delong(scores, truth, o.confidence);
    aucs[c] = auc.auc;
    per_class.push_back(class_json(p.classes[c], cm.counts(c), auc, o));
  }
  const double macro_auc = mean_defined(aucs);

  const ResamplingUnits units = p.groups.empty() ? single_samples(p.size()) : units_from_groups(p.groups);
  const std::vector<BootstrapInterval> boot = bootstrap_percentile(
      units, kPerClassF1 + k, o.bootstrap_replicates, o.seed, o.confidence,
      [&](std::span<const int32_t> w, std::span<double> out) {
        const ConfusionMatrix m = confusion_matrix(p.labels, p.predicted, k, w);
        const MacroRates r = macro_rates(m);
        out[kAccuracy] = ratio(m.correct(), m.total());
        out[kSensitivity] = r.sensitivity;
        out[kSpecificity] = r.specificity;
        out[kPpv] = r.ppv;
        out[kNpv] = r.npv;
        out[kF1] = r.f1;
        std::vector<double> a(k);
        for (int c = 0; c < k; ++c) {
          a[c] = ranked[c].auc(w);
          out[kPerClassF1 + c] = class_rates(m.counts(c)).f1;
        }
        out[kAuc] = mean_defined(a);
      });
  for (int c = 0; c < k; ++c) {
    per_class[c]["f1"] = bootstrap_json(class_rates(cm.counts(c)).f1, boot[kPerClassF1 + c]);
  }

  const nlohmann::json counts = counts_json(cm, k);
  nlohmann::json accuracy = proportion_json(proportion(cm.correct(), cm.total(), o.ci, o.confidence), o.ci);
  accuracy["bootstrap"] = {{"lo", number_or_null(boot[kAccuracy].lo)}, {"hi", number_or_null(boot[kAccuracy].hi)}};

  nlohmann::json j;
  j["format"] = "thaw-eval";
  j["version"] = 1;
  j["predictions"] = p.source;
  j["samples"] = p.size();
  j["classes"] = p.classes;
  j["confidence"] = o.confidence;
  j["ci_method"] = ci_method_name(o.ci);
  j["bootstrap"] = {{"replicates", o.bootstrap_replicates},
                    {"seed", o.seed},
                    {"unit", units.grouped ? "group" : "sample"},
                    {"units", units.members.size()}};
  j["confusion_matrix"] = {{"rows", "true class"}, {"columns", "predicted class"}, {"counts", counts}};
  j["accuracy"] = accuracy;
  j["balanced_accuracy"] = bootstrap_json(macro.sensitivity, boot[kSensitivity]);
  j["macro"] = {{"sensitivity", bootstrap_json(macro.sensitivity, boot[kSensitivity])},
                {"specificity", bootstrap_json(macro.specificity, boot[kSpecificity])},
                {"ppv", bootstrap_json(macro.ppv, boot[kPpv])},
                {"npv", bootstrap_json(macro.npv, boot[kNpv])},
                {"f1", bootstrap_json(macro.f1, boot[kF1])},
                {"auc", bootstrap_json(macro_auc, boot[kAuc])}};
  j["per_class"] = per_class;
  if (!o.positive.empty()) j["binary"] = binary_view(p, o);
  return j;
}

}  // namespace thaw
