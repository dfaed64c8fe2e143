// One-vs-rest AUCs with DeLong intervals against sklearn's roc_auc_score and a DeLong written in
// the reference script from the published algorithm (checked there against the pairwise
// definition); midranks, placements and the reweighted AUC by hand.
#include <cmath>

#include <gtest/gtest.h>

#include "stats/predictions.h"
#include "stats/roc_auc.h"
#include "tests/stats/stats_reference.h"

namespace thaw {
namespace {

using testkit::expect_near_ref;

TEST(RocAuc, MidranksAverageTies) {
  const std::vector<double> r = midranks(std::vector<double>{3, 1, 3, 2, 3});
  EXPECT_EQ(r, (std::vector<double>{4, 1, 4, 2, 4}));
}

TEST(RocAuc, PlacementsByHand) {
  // Positives 0.9 and 0.5, negatives 0.5 and 0.1: of the four pairs one is tied.
  const std::vector<double> s{0.9, 0.5, 0.5, 0.1};
  const std::vector<uint8_t> pos{1, 0, 1, 0};
  const Placements p = placements(s, pos);
  EXPECT_DOUBLE_EQ(p.auc, 3.5 / 4);
  EXPECT_EQ(p.v10, (std::vector<double>{1.0, 0.75}));
  EXPECT_EQ(p.v01, (std::vector<double>{0.75, 1.0}));
}

TEST(RocAuc, DelongMatchesReferenceForEveryClassOfEveryFile) {
  const nlohmann::json ref = testkit::load_stats_reference();
  int checked = 0;
  for (const auto& [file, r] : ref["files"].items()) {
    const Predictions p = read_predictions(testkit::stats_data(file));
    for (int c = 0; c < p.num_classes(); ++c) {
      const nlohmann::json& a = r["per_class"][c]["auc"];
      const AucEstimate e = auc_delong(p.class_scores(c), p.is_class(c), 0.95);
      const std::string at = file + " class " + p.classes[c];
      expect_near_ref(a["estimate"], e.auc, at + " auc");
      expect_near_ref(a["se"], e.se, at + " se");
      expect_near_ref(a["lo"], e.lo, at + " lo");
      expect_near_ref(a["hi"], e.hi, at + " hi");
      EXPECT_EQ(e.positives, a["positives"].get<int64_t>()) << at;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 11);
}

TEST(RocAuc, IntervalIsClippedToOne) {
  const std::vector<double> s{0.9, 0.8, 0.7, 0.2, 0.3, 0.1, 0.05, 0.01};
  const std::vector<uint8_t> pos{1, 1, 1, 1, 0, 0, 0, 0};
  const AucEstimate e = auc_delong(s, pos, 0.95);
  EXPECT_DOUBLE_EQ(e.auc, 15.0 / 16);
  ASSERT_GT(e.auc + 1.96 * e.se, 1.0);  // unclipped, the interval would pass 1
  EXPECT_EQ(e.hi, 1.0);
  EXPECT_LT(e.lo, e.auc);
}

TEST(RocAuc, UndefinedWithoutBothKinds) {
  const AucEstimate none = auc_delong(std::vector<double>{0.1, 0.2}, std::vector<uint8_t>{1, 1}, 0.95);
  EXPECT_TRUE(std::isnan(none.auc));
  const AucEstimate one = auc_delong(std::vector<double>{0.1, 0.2, 0.3}, std::vector<uint8_t>{1, 0, 0}, 0.95);
  EXPECT_DOUBLE_EQ(one.auc, 0.0);
  EXPECT_TRUE(std::isnan(one.se));  // a sample variance needs two positives
}

TEST(RocAuc, ReweightedAucEqualsAucOfTheDuplicatedSamples) {
  const std::vector<double> s{0.9, 0.4, 0.4, 0.35, 0.8, 0.1, 0.4, 0.6};
  const std::vector<uint8_t> pos{1, 0, 1, 0, 1, 0, 0, 1};
  const RankedScores ranked(s, pos);
  EXPECT_DOUBLE_EQ(ranked.auc(std::vector<int32_t>(8, 1)), placements(s, pos).auc);
  const std::vector<int32_t> w{2, 0, 1, 3, 0, 1, 2, 1};
  std::vector<double> ds;
  std::vector<uint8_t> dp;
  for (size_t i = 0; i < s.size(); ++i) {
    for (int32_t k = 0; k < w[i]; ++k) {
      ds.push_back(s[i]);
      dp.push_back(pos[i]);
    }
  }
  EXPECT_DOUBLE_EQ(ranked.auc(w), placements(ds, dp).auc);
  EXPECT_TRUE(std::isnan(ranked.auc(std::vector<int32_t>{1, 0, 1, 0, 1, 0, 0, 1})));  // no negative drawn
}

TEST(RocAuc, PairedTestOfIdenticalScoresFindsNothing) {
  const std::vector<double> s{0.9, 0.4, 0.4, 0.35, 0.8, 0.1, 0.4, 0.6};
  const std::vector<uint8_t> pos{1, 0, 1, 0, 1, 0, 0, 1};
  const PairedAucTest t = delong_paired(s, s, pos);
  EXPECT_EQ(t.difference, 0.0);
  EXPECT_EQ(t.p, 1.0);
  EXPECT_TRUE(std::isnan(t.z));
}

}  // namespace
}  // namespace thaw
