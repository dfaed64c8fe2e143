// Pooling a k-fold sweep (study/fold_sweep.h) from planted fold documents and prediction files: the
// pooled file holds every fold's test samples once (a byte-identical copy in two folds numbered
// again), the best arm is the one with the highest mean validation accuracy, the across-fold figures
// are the corrected t summaries of the folds' values, and the two tests against the best arm are
// McNemar on the pooled samples and the corrected paired t-test of the per-fold accuracies.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "io/csv.h"
#include "stats/fold_interval.h"
#include "stats/mcnemar.h"
#include "study/fold_sweep.h"
#include "study/fold_report.h"
#include "study/sweep_report.h"
#include "tests/support/temp_dir.h"

namespace thaw {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;
namespace fs = std::filesystem;

// A fold's test predictions: samples `first`.. (hash h<id>, class a for even ids), right where
// `correct` says; `hash_of` overrides a sample's hash (a byte-identical copy).
std::string predictions(int first, const std::vector<int>& correct, const std::map<int, std::string>& hash_of = {}) {
  std::ostringstream os;
  os << "path,hash,label,predicted,a,b\n";
  for (size_t i = 0; i < correct.size(); ++i) {
    const int id = first + static_cast<int>(i);
    const bool a = id % 2 == 0;
    const bool says_a = a == (correct[i] != 0);
    std::string hash = "h";
    hash += hash_of.count(id) ? hash_of.at(id).substr(1) : std::to_string(id);
    os << "img" << id << ".jpg," << hash << ',' << (a ? "a" : "b") << ',' << (says_a ? "a" : "b") << ','
       << (says_a ? "0.8,0.2" : "0.3,0.7") << '\n';
  }
  return os.str();
}

json m(double e) { return {{"estimate", e}, {"lo", e - 0.1}, {"hi", e + 0.1}}; }

json split(int64_t samples, double acc) {
  return {{"samples", samples}, {"accuracy", m(acc)}, {"balanced_accuracy", m(acc)}, {"macro_f1", m(acc)},
          {"macro_auc", m(acc)}};
}

json arm(const std::string& name, double val_acc, double test_acc) {
  return {{"freeze_through", name}, {"status", "complete"}, {"trainable_parameters", name == "A" ? 100 : 50},
          {"train_seconds", 2.0}, {"images_per_s", 10.0}, {"steps", 3}, {"wall_seconds", 4.0},
          {"peak_rss_bytes", 1000}, {"val", split(8, val_acc)}, {"test", split(4, test_acc)}};
}

class FoldPool : public ::testing::Test {
 protected:
  void SetUp() override {
    c_.folds = 3;
    c_.out = dir_.path();
    c_.freeze_points = {"A", "B"};
    c_.data.val_fraction = 0.25;
    // Fold f tests samples 4f..4f+3. A is right on 4, 3, 3 of them; B on 2, 3, 2. Sample 8 is a
    // byte-identical copy of sample 0 (same hash), in another fold.
    const std::vector<std::vector<int>> a = {{1, 1, 1, 1}, {1, 1, 1, 0}, {1, 1, 1, 0}};
    const std::vector<std::vector<int>> b = {{1, 1, 0, 0}, {1, 1, 0, 1}, {1, 1, 0, 0}};
    const double val_a[] = {0.8, 0.9, 0.7}, val_b[] = {0.6, 0.7, 0.8};
    for (int f = 0; f < 3; ++f) {
      const fs::path fold = dir_.path() / ("fold-" + std::to_string(f)) / "arms";
      fs::create_directories(fold / "A");
      fs::create_directories(fold / "B");
      std::ofstream(fold / "A" / "predictions-test.csv") << predictions(4 * f, a[f], {{8, "h0"}});
      std::ofstream(fold / "B" / "predictions-test.csv") << predictions(4 * f, b[f], {{8, "h0"}});
      const double ta = (a[f][0] + a[f][1] + a[f][2] + a[f][3]) / 4.0, tb = (b[f][0] + b[f][1] + b[f][2] + b[f][3]) / 4.0;
      docs_.push_back({{"arms", {arm("A", val_a[f], ta), arm("B", val_b[f], tb)}}});
    }
  }
  testkit::TempDir dir_{"thaw-fold-pool"};
  SweepConfig c_;
  std::vector<json> docs_;
};

TEST_F(FoldPool, PoolsEveryFoldOnceAndComparesOnTheMeans) {
  const json doc = pool_fold_sweeps(c_, docs_);
  EXPECT_EQ(doc["best_arm"], "A");  // mean validation 0.8 against 0.7
  const json& a = doc["arms"][0];
  const json& b = doc["arms"][1];
  ASSERT_EQ(a["status"], "complete") << a.dump(2);
  EXPECT_EQ(a["test"]["samples"], 12);
  EXPECT_NEAR(a["test"]["accuracy"]["estimate"].get<double>(), 10.0 / 12, 1e-12);
  EXPECT_NEAR(b["test"]["accuracy"]["estimate"].get<double>(), 7.0 / 12, 1e-12);
  EXPECT_EQ(a["steps"], 9);
  EXPECT_EQ(a["val"]["samples"], 24);

  const CsvTable pooled = read_csv(dir_.path() / "arms" / "A" / "predictions-test.csv");
  ASSERT_EQ(pooled.rows.size(), 12u);
  const int h = pooled.column("hash");
  EXPECT_EQ(pooled.rows[0][static_cast<size_t>(h)], "h0");
  EXPECT_EQ(pooled.rows[8][static_cast<size_t>(h)], "h0#2");
  EXPECT_TRUE(fs::exists(dir_.path() / "arms" / "A" / "eval-test.json"));

  const FoldSummary ta = corrected_fold_interval({1.0, 0.75, 0.75}, 0.5, 0.95);
  EXPECT_NEAR(a["across_folds"]["accuracy"]["estimate"].get<double>(), ta.mean, 1e-15);
  EXPECT_NEAR(a["across_folds"]["accuracy"]["lo"].get<double>(), ta.lo, 1e-15);
  ASSERT_GT(ta.hi, 1.0);  // three folds: a wide interval, clipped to what an accuracy can be
  EXPECT_EQ(a["across_folds"]["accuracy"]["hi"].get<double>(), 1.0);
  const FoldSummary va = corrected_fold_interval({0.8, 0.9, 0.7}, 0.5, 0.95);
  EXPECT_NEAR(a["val"]["accuracy"]["estimate"].get<double>(), va.mean, 1e-15);
  EXPECT_NEAR(a["val"]["accuracy"]["lo"].get<double>(), va.lo, 1e-15);

  // B against A: only B right on sample 7, only A right on samples 2, 3, 6 and 10.
  const json& vs = b["vs_best"];
  EXPECT_EQ(vs["only_this_correct"], 1);
  EXPECT_EQ(vs["only_best_correct"], 4);
  EXPECT_NEAR(vs["mcnemar_p"].get<double>(), mcnemar_exact_p(1, 4), 1e-15);
  EXPECT_NEAR(vs["corrected_t_p"].get<double>(), *corrected_paired_t_p({-0.5, 0.0, -0.25}, 0.5), 1e-15);
  EXPECT_FALSE(a.contains("vs_best"));

  const std::string md = sweep_markdown(doc, false);
  EXPECT_THAT(md, HasSubstr("# Freeze-depth sweep, 3-fold cross-validation"));
  EXPECT_THAT(md, HasSubstr("| A | 1.000 | 0.750 | 0.750 | 0.833 ["));
  EXPECT_THAT(md, HasSubstr("Best by mean validation accuracy over the folds: **A**"));
  EXPECT_THAT(md, HasSubstr("Nadeau and Bengio"));
  const std::string csv = sweep_folds_csv(doc);
  EXPECT_THAT(csv, HasSubstr("\nB,1,8,4,0.7,0.7,0.7,0.7,0.75,0.75,0.75,0.75\n"));
}

TEST_F(FoldPool, AnArmFailedInOneFoldIsFailedAndFoldsNotRunArePending) {
  docs_[1]["arms"][1] = {{"freeze_through", "B"}, {"status", "failed"}, {"error", "out of memory"}};
  json doc = pool_fold_sweeps(c_, docs_);
  EXPECT_EQ(doc["arms"][1]["status"], "failed");
  EXPECT_EQ(doc["arms"][1]["error"], "fold 1: out of memory");
  EXPECT_EQ(doc["best_arm"], "A");
  doc = pool_fold_sweeps(c_, {docs_[0]});
  EXPECT_EQ(doc["arms"][0]["status"], "pending");
  EXPECT_EQ(doc["folds_done"], 1);
  EXPECT_TRUE(doc["best_arm"].is_null());
}

}  // namespace
}  // namespace thaw
