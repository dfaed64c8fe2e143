// The assembled eval.json document against the reference: every point value, interval and count of
// every committed predictions file, with Wilson and with exact intervals, the binary views at a
// threshold, and the comparison of two models (McNemar, paired DeLong, Holm).
#include <gtest/gtest.h>

#include "stats/comparison.h"
#include "stats/evaluation.h"
#include "tests/stats/stats_reference.h"

namespace thaw {
namespace {

using testkit::expect_near_ref;

// An eval.json proportion against a reference {k, n, estimate, wilson, exact}.
void expect_proportion(const nlohmann::json& ref, const nlohmann::json& ours, CiMethod ci, const std::string& what) {
  EXPECT_EQ(ours["successes"].get<int64_t>(), ref["k"].get<int64_t>()) << what;
  EXPECT_EQ(ours["trials"].get<int64_t>(), ref["n"].get<int64_t>()) << what;
  expect_near_ref(ref["estimate"], ours["estimate"], what + " estimate");
  const nlohmann::json& ends = ref[ci == CiMethod::Wilson ? "wilson" : "exact"];
  expect_near_ref(ends.is_null() ? ends : ends[0], ours["lo"], what + " lo");
  expect_near_ref(ends.is_null() ? ends : ends[1], ours["hi"], what + " hi");
}

void expect_auc(const nlohmann::json& ref, const nlohmann::json& ours, const std::string& what) {
  for (const char* f : {"estimate", "se", "lo", "hi"}) expect_near_ref(ref[f], ours[f], what + " " + f);
}

class EvaluationReference : public ::testing::TestWithParam<CiMethod> {
 protected:
  EvalOptions options() const {
    EvalOptions o;
    o.ci = GetParam();
    o.bootstrap_replicates = 50;  // intervals are tested elsewhere; the points here
    return o;
  }
};

TEST_P(EvaluationReference, EveryFileEveryValue) {
  const nlohmann::json ref = testkit::load_stats_reference();
  const CiMethod ci = GetParam();
  for (const auto& [file, r] : ref["files"].items()) {
    const nlohmann::json e = evaluate_predictions(read_predictions(testkit::stats_data(file)), options());
    EXPECT_EQ(e["classes"], r["classes"]) << file;
    EXPECT_EQ(e["samples"], r["samples"]) << file;
    EXPECT_EQ(e["confusion_matrix"]["counts"], r["confusion"]) << file;
    expect_proportion(r["accuracy"], e["accuracy"], ci, file + " accuracy");
    expect_near_ref(r["balanced_accuracy"], e["balanced_accuracy"]["estimate"], file + " balanced accuracy");
    for (const char* m : {"sensitivity", "specificity", "ppv", "npv", "f1", "auc"}) {
      expect_near_ref(r["macro"][m], e["macro"][m]["estimate"], file + " macro " + m);
    }
    ASSERT_EQ(e["per_class"].size(), r["per_class"].size()) << file;
    for (size_t c = 0; c < r["per_class"].size(); ++c) {
      const nlohmann::json& rc = r["per_class"][c];
      const nlohmann::json& ec = e["per_class"][c];
      const std::string at = file + " " + rc["class"].get<std::string>();
      for (const char* k : {"tp", "fp", "fn", "tn"}) EXPECT_EQ(ec[k], rc[k]) << at << " " << k;
      for (const char* m : {"sensitivity", "specificity", "ppv", "npv"}) expect_proportion(rc[m], ec[m], ci, at + " " + m);
      expect_near_ref(rc["f1"], ec["f1"]["estimate"], at + " f1");
      expect_auc(rc["auc"], ec["auc"], at + " auc");
    }
  }
}

TEST_P(EvaluationReference, BinaryViewsAtAThreshold) {
  const nlohmann::json ref = testkit::load_stats_reference();
  const CiMethod ci = GetParam();
  ASSERT_GE(ref["binary_views"].size(), 3u);
  for (const nlohmann::json& r : ref["binary_views"]) {
    EvalOptions o = options();
    o.positive = r["positive"].get<std::string>();
    o.threshold = r["threshold"].get<double>();
    const nlohmann::json b =
        evaluate_predictions(read_predictions(testkit::stats_data(r["file"].get<std::string>())), o)["binary"];
    const std::string at = r["file"].get<std::string>() + " @ " + std::to_string(*o.threshold);
    for (const char* k : {"tp", "fp", "fn", "tn"}) EXPECT_EQ(b[k], r[k]) << at << " " << k;
    for (const char* m : {"sensitivity", "specificity", "ppv", "npv", "accuracy"}) {
      expect_proportion(r[m], b[m], ci, at + " " + m);
    }
    expect_auc(r["auc"], b["auc"], at + " auc");
  }
}

INSTANTIATE_TEST_SUITE_P(Ci, EvaluationReference, ::testing::Values(CiMethod::Wilson, CiMethod::Exact),
                         [](const auto& info) { return std::string(ci_method_name(info.param)) == "wilson" ? "Wilson" : "Exact"; });

TEST(ComparisonReference, McNemarDelongAndHolm) {
  const nlohmann::json ref = testkit::load_stats_reference();
  const nlohmann::json& r = ref["comparisons"][0];
  const Predictions a = read_predictions(testkit::stats_data(r["a"].get<std::string>()));
  const Predictions b = read_predictions(testkit::stats_data(r["b"].get<std::string>()));
  const nlohmann::json c = compare_predictions(a, b, EvalOptions{});
  EXPECT_EQ(c["matched_by"], "hash");  // B's rows are in another order
  EXPECT_EQ(c["samples"], r["samples"]);
  for (const char* k : {"both_correct", "only_a_correct", "only_b_correct", "both_wrong"}) {
    EXPECT_EQ(c["mcnemar"][k], r["mcnemar"][k]) << k;
  }
  expect_near_ref(r["mcnemar"]["p"], c["mcnemar"]["p"], "mcnemar p");
  expect_near_ref(r["mcnemar"]["p_holm"], c["mcnemar"]["p_holm"], "mcnemar p_holm");
  ASSERT_EQ(c["delong"].size(), r["delong"].size());
  EXPECT_EQ(c["holm_family"], 1 + r["delong"].size());
  for (size_t i = 0; i < r["delong"].size(); ++i) {
    const nlohmann::json& rd = r["delong"][i];
    const nlohmann::json& cd = c["delong"][i];
    EXPECT_EQ(cd["class"], rd["class"]);
    for (const char* f : {"auc_a", "auc_b", "difference", "se", "z", "p", "p_holm"}) {
      expect_near_ref(rd[f], cd[f], rd["class"].get<std::string>() + " " + f);
    }
  }
}

}  // namespace
}  // namespace thaw
