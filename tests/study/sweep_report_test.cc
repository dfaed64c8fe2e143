// The sweep's comparisons and report: the best arm by validation accuracy, McNemar against it on
// the test predictions with Holm's adjustment, the CSV, the table and the HTML (a failed arm shows
// its error; the plots are embedded as base64).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "stats/holm.h"
#include "stats/mcnemar.h"
#include "study/sweep.h"
#include "study/sweep_report.h"
#include "tests/support/temp_dir.h"

namespace thaw {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;
namespace fs = std::filesystem;

using testkit::TempDir;

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

// Test predictions of an arm: `correct[i]` says whether sample i (hash h<i>, class a or b) is right.
std::string predictions(const std::vector<int>& correct) {
  std::ostringstream os;
  os << "path,hash,label,predicted,a,b\n";
  for (size_t i = 0; i < correct.size(); ++i) {
    const bool a = i % 2 == 0;
    const bool right = correct[i] != 0;
    const bool says_a = a == right;
    os << "test:" << i << ",h" << i << ',' << (a ? "a" : "b") << ',' << (says_a ? "a" : "b") << ','
       << (says_a ? "0.8,0.2" : "0.3,0.7") << '\n';
  }
  return os.str();
}

json metric(double e, double lo, double hi) { return {{"estimate", e}, {"lo", lo}, {"hi", hi}}; }

json complete_arm(const std::string& name, double val_acc, int64_t params) {
  return {{"freeze_through", name},
          {"status", "complete"},
          {"run_dir", "arms/" + name},
          {"trainable_parameters", params},
          {"train_seconds", 10.0},
          {"images_per_s", 50.0},
          {"peak_rss_bytes", int64_t{1} << 30},
          {"val", {{"accuracy", metric(val_acc, val_acc - 0.1, val_acc + 0.1)}}},
          {"test",
           {{"accuracy", metric(0.5, 0.4, 0.6)},
            {"balanced_accuracy", metric(0.5, 0.4, 0.6)},
            {"macro_auc", metric(0.7, 0.6, 0.8)}}}};
}

TEST(SweepCompare, BestByValidationThenMcNemarWithHolm) {
  TempDir dir;
  // 20 test samples. Best arm (b) right on all; arm a wrong on 6; arm c wrong on 2; arm d failed.
  std::vector<int> all(20, 1), six = all, two = all;
  for (int i : {0, 3, 5, 8, 13, 17}) six[i] = 0;
  for (int i : {4, 9}) two[i] = 0;
  write(dir.path() / "arms/a/predictions-test.csv", predictions(six));
  write(dir.path() / "arms/b/predictions-test.csv", predictions(all));
  write(dir.path() / "arms/c/predictions-test.csv", predictions(two));
  json sweep = {{"arms", json::array({complete_arm("a", 0.7, 100), complete_arm("b", 0.9, 50000),
                                      complete_arm("c", 0.9, 90000),
                                      {{"freeze_through", "d"}, {"status", "failed"}, {"error", "thaw: error: boom"}}})}};
  compare_arms(sweep, dir.path());
  EXPECT_EQ(sweep["best_arm"], "b");  // ties with c on validation: fewer trainable parameters
  const double pa = mcnemar_exact_p(0, 6), pc = mcnemar_exact_p(0, 2);
  EXPECT_NEAR(pa, 2.0 / 64.0, 1e-15);  // 2 * 0.5^6
  const std::vector<double> holm = holm_adjust(std::vector<double>{pa, pc});
  EXPECT_EQ(sweep["arms"][0]["vs_best"]["mcnemar_p"].get<double>(), pa);
  EXPECT_EQ(sweep["arms"][0]["vs_best"]["p_holm"].get<double>(), holm[0]);
  EXPECT_EQ(sweep["arms"][0]["vs_best"]["only_best_correct"], 6);
  EXPECT_EQ(sweep["arms"][0]["vs_best"]["matched_by"], "hash");
  EXPECT_EQ(sweep["arms"][2]["vs_best"]["p_holm"].get<double>(), holm[1]);
  EXPECT_FALSE(sweep["arms"][1].contains("vs_best"));
  EXPECT_FALSE(sweep["arms"][3].contains("vs_best"));
  EXPECT_EQ(sweep["holm_family"], 2);

  const std::string table = sweep_table(sweep);
  EXPECT_THAT(table, HasSubstr("d: failed: thaw: error: boom"));
  EXPECT_THAT(table, HasSubstr("best by validation accuracy: b"));
  EXPECT_THAT(table, HasSubstr("0.900 [0.800, 1.000]"));
  const std::string csv = sweep_csv(sweep);
  EXPECT_THAT(csv, HasSubstr("\nd,failed,thaw: error: boom,"));
  EXPECT_THAT(csv, HasSubstr("\nb,complete,,50000,"));
  // The report's first sentence: the best arm with its test interval, then the arms the test set
  // cannot tell from it (Holm: 2 * 2/64 = 0.0625 for a, 0.5 for c) and the cheapest of them.
  sweep["ci_method"] = "wilson";
  sweep["data"] = {{"spec", "fashion-mnist"}};
  const std::string md = sweep_markdown(sweep, false);
  EXPECT_THAT(md, HasSubstr("Best by validation accuracy: **b** (50.0 k trainable parameters; test accuracy "
                            "0.500 [0.400, 0.600])."));
  EXPECT_THAT(md, HasSubstr("a and c are not shown to differ"));
  EXPECT_THAT(md, HasSubstr("The cheapest of those: a (100 trainable, 10.0 s of training)."));
  EXPECT_THAT(md, HasSubstr("Intervals are 95%: Wilson for accuracy"));

  // Test predictions of another test set: the comparison fails, naming the files.
  write(dir.path() / "arms/c/predictions-test.csv", "path,hash,label,predicted,a,b\ntest:0,zz,a,a,0.8,0.2\n");
  try {
    compare_arms(sweep, dir.path());
    ADD_FAILURE() << "expected a UserError";
  } catch (const UserError& e) {
    EXPECT_THAT(e.what(), HasSubstr("is not in"));
  }
}

TEST(SweepCompare, SelectArmChoosesByTheNamedValidationMetric) {
  TempDir dir;
  std::vector<int> all(20, 1);
  write(dir.path() / "arms/a/predictions-test.csv", predictions(all));
  write(dir.path() / "arms/b/predictions-test.csv", predictions(all));
  json a = complete_arm("a", 0.9, 100), b = complete_arm("b", 0.8, 100);
  a["val"]["balanced_accuracy"] = {{"estimate", 0.6}, {"lo", 0.5}, {"hi", 0.7}};
  b["val"]["balanced_accuracy"] = {{"estimate", 0.75}, {"lo", 0.6}, {"hi", 0.9}};
  a["val"]["macro_auc"] = {{"estimate", 0.95}, {"lo", 0.9}, {"hi", 1.0}};
  b["val"]["macro_auc"] = {{"estimate", 0.85}, {"lo", 0.8}, {"hi", 0.9}};
  json sweep = {{"arms", json::array({a, b})}};
  compare_arms(sweep, dir.path());  // no "select": accuracy, as sweeps before the option
  EXPECT_EQ(sweep["best_arm"], "a");
  sweep["select"] = "balanced_accuracy";
  compare_arms(sweep, dir.path());
  EXPECT_EQ(sweep["best_arm"], "b");
  EXPECT_EQ(sweep["best_by"], "validation balanced accuracy (ties: fewer trainable parameters)");
  EXPECT_THAT(sweep_table(sweep), HasSubstr("best by validation balanced accuracy: b"));
  sweep["select"] = "auc";
  compare_arms(sweep, dir.path());
  EXPECT_EQ(sweep["best_arm"], "a");
  EXPECT_EQ(select_arm_field("auc"), "macro_auc");
  EXPECT_THROW(select_arm_field("val_loss"), UserError);
}

TEST(SweepReport, Base64MatchesRfc4648) {
  EXPECT_EQ(base64(""), "");
  EXPECT_EQ(base64("f"), "Zg==");
  EXPECT_EQ(base64("fo"), "Zm8=");
  EXPECT_EQ(base64("foo"), "Zm9v");
  EXPECT_EQ(base64("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64(std::string("\xff\x00\x80", 3)), "/wCA");
}

TEST(SweepReport, HtmlIsOneFileWithPlotsAndErrors) {
  TempDir dir;
  write(dir.path() / "plots/loss_curves.png", "\x89PNG fake");
  json sweep = {{"data", {{"spec", "fashion-mnist"}, {"class_subset", "5-9"}}},
                {"command", "thaw sweep <x>"},
                {"ci_method", "wilson"},
                {"best_arm", "b"},
                {"arms", json::array({complete_arm("b", 0.9, 50000),
                                      {{"freeze_through", "none"}, {"status", "failed"}, {"error", "thaw: error: <oom>"}}})}};
  const std::string html = sweep_html(sweep, dir.path() / "plots");
  EXPECT_THAT(html, HasSubstr("<!DOCTYPE html>"));
  EXPECT_THAT(html, HasSubstr("thaw sweep &lt;x&gt;"));
  EXPECT_THAT(html, HasSubstr("thaw: error: &lt;oom&gt;"));
  EXPECT_THAT(html, HasSubstr("<tr class=\"failed\"><td>none (failed)</td>"));  // not a row of dashes alone
  EXPECT_THAT(html, HasSubstr("data:image/png;base64," + base64("\x89PNG fake")));
  EXPECT_THAT(html, ::testing::Not(HasSubstr("accuracy_vs_cost")));  // absent plots are left out
  EXPECT_THAT(html, ::testing::Not(HasSubstr("src=\"plots/")));        // nothing outside the file
  EXPECT_THAT(sweep_html(sweep, {}), HasSubstr("No plots"));
  const std::string md = sweep_markdown(sweep, true);
  EXPECT_THAT(md, HasSubstr("![Loss curves](plots/loss_curves.png)"));
  EXPECT_THAT(md, HasSubstr("| none | - | - |"));
  // What the intervals rest on and where training started, under the title.
  sweep["data"]["val_fraction"] = 0.2;
  sweep["data"]["test_fraction"] = 0.25;
  sweep["arms"][0]["val"]["samples"] = 18;
  sweep["arms"][0]["test"]["samples"] = 30;
  sweep["weights"] = nullptr;
  EXPECT_THAT(sweep_markdown(sweep, false),
              HasSubstr("- validation 18 and test 30 samples (--val-fraction 0.2, --test-fraction 0.25 of train, seed 0); "
                        "weights none: a seeded random initialisation\n"));
  sweep["weights"] = "/m/w.safetensors";
  EXPECT_THAT(sweep_html(sweep, {}), HasSubstr("seed 0); weights /m/w.safetensors<br>"));
}

TEST(SweepArms, FreezePointsAreCheckedAndAllBlocksListsEveryBlockButTheHead) {
  const std::vector<std::string> all = all_freeze_points("inception_v4");
  ASSERT_EQ(all.size(), 23u);  // none + 22 blocks
  EXPECT_EQ(all.front(), "none");
  EXPECT_EQ(all.back(), "mixed_7d");
  EXPECT_EQ(parse_freeze_points("none,features.21,mixed_6h", "inception_v4"),
            (std::vector<std::string>{"none", "mixed_7d", "mixed_6h"}));
  try {
    parse_freeze_points("mixed_6h,mixed_6h", "inception_v4");
    ADD_FAILURE();
  } catch (const UserError& e) {
    EXPECT_THAT(e.what(), HasSubstr("appears twice"));
  }
  try {
    parse_freeze_points("head", "inception_v4");
    ADD_FAILURE();
  } catch (const UserError& e) {
    EXPECT_THAT(e.what(), HasSubstr("nothing would train"));
  }
}

TEST(SweepArms, AnUnfreezingArmIsItsScheduleWithTheBlocksOwnNames) {
  const std::vector<std::string> arms = parse_freeze_points("mixed_7d,features.21@0+mixed_6h@2+none@3", "inception_v4");
  ASSERT_EQ(arms.size(), 2u);
  EXPECT_EQ(arms[1], "mixed_7d@0+mixed_6h@2+none@3");
  EXPECT_FALSE(is_unfreeze_arm(arms[0]));
  EXPECT_TRUE(is_unfreeze_arm(arms[1]));
  EXPECT_EQ(unfreeze_spec(arms[1]), "mixed_7d@0,mixed_6h@2,none@3");
  const auto error = [](const std::string& list) {
    try {
      parse_freeze_points(list, "inception_v4");
    } catch (const UserError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_THAT(error("mixed_6h@0+mixed_7d@1"),
              HasSubstr("--freeze-through: the unfreezing arm 'mixed_6h@0+mixed_7d@1': each freeze point must come before"));
  EXPECT_THAT(error("mixed_7d@0+mixed_6h@1,features.21@0+mixed_6h@1"), HasSubstr("appears twice"));
}

}  // namespace
}  // namespace thaw
