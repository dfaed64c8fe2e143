#include "stats/comparison.h"

#include <string>
#include <unordered_map>

#include "core/error.h"
#include "stats/holm.h"
#include "stats/json_values.h"
#include "stats/mcnemar.h"
#include "stats/roc_auc.h"

namespace thaw {

namespace {

// Row of each key in `keys`; a repeated key would make the matching ambiguous.
std::unordered_map<std::string, int64_t> index_keys(const Predictions& p, const std::vector<std::string>& keys,
                                                    const char* column) {
  std::unordered_map<std::string, int64_t> index;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (!index.emplace(keys[i], static_cast<int64_t>(i)).second) {
      fail_user(p.source, ": line ", p.lines[i], ", column '", column, "': '", keys[i],
                "' appears twice (expected each sample once, to match the samples of the other file)");
    }
  }
  return index;
}

void match_by_key(const Predictions& a, const Predictions& b, const std::vector<std::string>& ka,
                  const std::vector<std::string>& kb, const char* column, SampleMatch& m) {
  index_keys(a, ka, column);
  const std::unordered_map<std::string, int64_t> in_b = index_keys(b, kb, column);
  for (size_t i = 0; i < ka.size(); ++i) {
    const auto it = in_b.find(ka[i]);
    if (it == in_b.end()) {
      fail_user(a.source, ": line ", a.lines[i], ", column '", column, "': sample '", ka[i], "' is not in ", b.source,
                " (--compare expects predictions for the same samples)");
    }
    m.b_of_a[i] = it->second;
  }
  if (kb.size() != ka.size()) {
    const std::unordered_map<std::string, int64_t> in_a = index_keys(a, ka, column);
    for (size_t i = 0; i < kb.size(); ++i) {
      if (!in_a.contains(kb[i])) {
        fail_user(b.source, ": line ", b.lines[i], ", column '", column, "': sample '", kb[i], "' is not in ", a.source,
                  " (--compare expects predictions for the same samples)");
      }
    }
  }
}

}  // namespace

SampleMatch match_samples(const Predictions& a, const Predictions& b) {
  SampleMatch m;
  if (a.num_classes() != b.num_classes()) {
    fail_user(b.source, ": line 1: expected the same classes as ", a.source, " (", a.num_classes(), "), got ",
              b.num_classes());
  }
  for (const std::string& c : a.classes) {
    const int j = b.class_index(c);
    if (j < 0) fail_user(b.source, ": line 1: expected a column for class '", c, "' as in ", a.source);
    m.b_class_of_a.push_back(j);
  }
  m.b_of_a.resize(static_cast<size_t>(a.size()));
  if (!a.hashes.empty() && !b.hashes.empty()) {
    m.by = "hash";
    match_by_key(a, b, a.hashes, b.hashes, "hash", m);
  } else if (!a.paths.empty() && !b.paths.empty()) {
    m.by = "path";
    match_by_key(a, b, a.paths, b.paths, "path", m);
  } else {
    if (a.size() != b.size()) {
      fail_user(b.source, ": expected ", a.size(), " rows as in ", a.source, " (matched by row order: neither a 'hash' ",
                "nor a 'path' column in both), got ", b.size());
    }
    for (int64_t i = 0; i < a.size(); ++i) m.b_of_a[i] = i;
  }
  for (int64_t i = 0; i < a.size(); ++i) {
    const int64_t j = m.b_of_a[i];
    if (b.classes[b.labels[j]] != a.classes[a.labels[i]]) {
      fail_user(b.source, ": line ", b.lines[j], ", column 'label': expected '", a.classes[a.labels[i]], "' as in ",
                a.source, " line ", a.lines[i], " (the same sample), got '", b.classes[b.labels[j]], "'");
    }
  }
  return m;
}

nlohmann::json compare_predictions(const Predictions& a, const Predictions& b, const EvalOptions& o) {
  const SampleMatch m = match_samples(a, b);
  const int k = a.num_classes();
  const size_t n = static_cast<size_t>(a.size());
  std::vector<uint8_t> a_ok(n), b_ok(n);
  for (size_t i = 0; i < n; ++i) {
    const int64_t j = m.b_of_a[i];
    a_ok[i] = a.predicted[i] == a.labels[i];
    b_ok[i] = b.predicted[j] == b.labels[j];
  }
  const McNemarTest mc = mcnemar_exact(a_ok, b_ok);

  // With two classes each AUC mirrors the other: one test, for --positive or the second class.
  std::vector<int> tested;
  if (k == 2) {
    tested.push_back(o.positive.empty() ? 1 : a.class_index(o.positive));
  } else {
    for (int c = 0; c < k; ++c) tested.push_back(c);
  }
  std::vector<std::pair<int, PairedAucTest>> auc_tests;
  std::vector<double> pvalues{mc.p};
  nlohmann::json skipped = nlohmann::json::array();
  for (const int c : tested) {
    const std::vector<uint8_t> truth = a.is_class(c);
    int64_t pos = 0;
    for (const uint8_t t : truth) pos += t;
    if (pos < 2 || static_cast<int64_t>(n) - pos < 2) {
      skipped.push_back(a.classes[c]);
      continue;
    }
    std::vector<double> sb(n);
    for (size_t i = 0; i < n; ++i) sb[i] = b.prob(m.b_of_a[i], m.b_class_of_a[c]);
    auc_tests.emplace_back(c, delong_paired(a.class_scores(c), sb, truth));
    pvalues.push_back(auc_tests.back().second.p);
  }
  const std::vector<double> holm = holm_adjust(pvalues);

  nlohmann::json j;
  j["a"] = a.source;
  j["b"] = b.source;
  j["matched_by"] = m.by;
  j["samples"] = n;
  j["accuracy_a"] = proportion_json(proportion(mc.both_correct + mc.only_a_correct, n, o.ci, o.confidence), o.ci);
  j["accuracy_b"] = proportion_json(proportion(mc.both_correct + mc.only_b_correct, n, o.ci, o.confidence), o.ci);
  j["mcnemar"] = {{"both_correct", mc.both_correct}, {"only_a_correct", mc.only_a_correct},
                  {"only_b_correct", mc.only_b_correct}, {"both_wrong", mc.both_wrong},
                  {"p", mc.p}, {"p_holm", holm[0]}};
  nlohmann::json aucs = nlohmann::json::array();
  for (size_t t = 0; t < auc_tests.size(); ++t) {
    const auto& [c, d] = auc_tests[t];
    aucs.push_back({{"class", a.classes[c]}, {"auc_a", d.auc_a}, {"auc_b", d.auc_b}, {"difference", d.difference},
                    {"se", d.se}, {"z", number_or_null(d.z)}, {"p", d.p}, {"p_holm", holm[1 + t]}});
  }
  j["delong"] = aucs;
  j["delong_skipped"] = skipped;  // classes with fewer than two positives or two negatives
  j["holm_family"] = pvalues.size();
  return j;
}

}  // namespace thaw
