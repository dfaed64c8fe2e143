// ROC and precision-recall curves, Youden's operating point, the reliability table with its ECE,
// and the Brier scores, against scikit-learn 1.2's roc_curve (drop_intermediate=False),
// precision_recall_curve, average_precision_score, calibration_curve (uniform bins),
// brier_score_loss, and scipy's chi2_contingency (correction=False) (tests/stats/data/reference.json),
// to 1e-9.
#include <gtest/gtest.h>

#include "core/error.h"
#include "stats/calibration.h"
#include "stats/chi_square.h"
#include "stats/curves.h"
#include "stats/predictions.h"
#include "tests/stats/stats_reference.h"

namespace thaw {
namespace {

using testkit::expect_near_ref;
using testkit::load_stats_reference;
using testkit::stats_data;

void expect_list(const nlohmann::json& ref, const std::vector<double>& ours, const std::string& what) {
  ASSERT_EQ(ours.size(), ref.size()) << what;
  for (size_t i = 0; i < ours.size(); ++i) expect_near_ref(ref[i], ours[i], what + "[" + std::to_string(i) + "]");
}

TEST(CurvesReference, MatchScikitLearn) {
  const nlohmann::json ref = load_stats_reference();
  ASSERT_GE(ref.at("curves").size(), 4u);
  for (const nlohmann::json& r : ref.at("curves")) {
    const Predictions p = read_predictions(stats_data(r.at("file").get<std::string>()));
    std::vector<double> score;
    std::vector<uint8_t> y;
    std::string what = r.at("file").get<std::string>();
    if (r.at("positive").is_null()) {
      score = top_probability(p);
      y = prediction_correct(p);
      what += " top label";
    } else {
      const int c = p.class_index(r.at("positive").get<std::string>());
      score = p.class_scores(c);
      y = p.is_class(c);
      what += " " + r.at("positive").get<std::string>();
      expect_near_ref(r.at("multiclass_brier"), multiclass_brier(p), what + " multiclass Brier");
    }
    const RocCurve roc = roc_curve(score, y);
    expect_list(r.at("roc_fpr"), roc.fpr, what + " fpr");
    expect_list(r.at("roc_tpr"), roc.tpr, what + " tpr");
    expect_list(r.at("roc_thresholds"), roc.thresholds, what + " roc thresholds");
    const PrCurve pr = precision_recall_curve(score, y);
    expect_list(r.at("pr_precision"), pr.precision, what + " precision");
    expect_list(r.at("pr_recall"), pr.recall, what + " recall");
    expect_list(r.at("pr_thresholds"), pr.thresholds, what + " pr thresholds");
    expect_near_ref(r.at("average_precision"), pr.average_precision, what + " average precision");
    const OperatingPoint op = youden_point(score, y);
    expect_near_ref(r.at("youden_threshold"), op.threshold, what + " Youden threshold");
    expect_near_ref(r.at("youden_j"), op.youden_j, what + " Youden J");
    const Reliability rel = reliability(score, y, r.at("bins").get<int>());
    std::vector<double> observed, predicted, counts;
    for (const ReliabilityBin& b : rel.table) {
      observed.push_back(b.observed);
      predicted.push_back(b.mean_predicted);
      counts.push_back(static_cast<double>(b.count));
    }
    expect_list(r.at("reliability_observed"), observed, what + " observed");
    expect_list(r.at("reliability_predicted"), predicted, what + " predicted");
    expect_list(r.at("reliability_counts"), counts, what + " bin counts");
    expect_near_ref(r.at("ece"), rel.ece, what + " ECE");
    expect_near_ref(r.at("brier"), brier_score(score, y), what + " Brier");
  }
}

TEST(CurvesReference, EdgesAndOneSidedData) {
  // A probability on an inner edge goes to the lower bin, as numpy's searchsorted (side "left").
  const std::vector<double> p = {0.0, 0.5, 0.5000001, 1.0};
  const std::vector<uint8_t> y = {0, 1, 0, 1};
  const Reliability r = reliability(p, y, 2);
  ASSERT_EQ(r.table.size(), 2u);
  EXPECT_EQ(r.table[0].count, 2);
  EXPECT_EQ(r.table[1].count, 2);
  const std::vector<uint8_t> all = {1, 1, 1, 1};
  EXPECT_THROW(roc_curve(p, all), UserError);
}

TEST(ChiSquareReference, MatchesScipyWithoutContinuityCorrection) {
  const nlohmann::json ref = load_stats_reference();
  ASSERT_GE(ref.at("chi_square").size(), 5u);
  for (const nlohmann::json& r : ref.at("chi_square")) {
    const ChiSquareTest t = chi_square_independence(r.at("table").get<std::vector<std::vector<int64_t>>>());
    const std::string what = r.at("table").dump();
    expect_near_ref(r.at("statistic"), t.statistic, what + " statistic");
    expect_near_ref(r.at("p"), t.p, what + " p");
    expect_near_ref(r.at("min_expected"), t.min_expected, what + " smallest expected count");
    EXPECT_EQ(t.df, r.at("df").get<int64_t>()) << what;
  }
  // An empty row carries nothing and is left out; one row left is no test.
  EXPECT_EQ(chi_square_independence({{10, 20}, {0, 0}, {30, 25}}).df, 1);
  EXPECT_THROW(chi_square_independence({{10, 20}, {0, 0}}), UserError);
}

}  // namespace
}  // namespace thaw
