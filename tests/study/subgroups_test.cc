// Subgroup tables (study/subgroups.h) from a planted manifest and predictions: the counts per level,
// the chi-square tests on the tables those counts make, and the one-line refusals.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "io/csv.h"
#include "stats/chi_square.h"
#include "study/subgroups.h"
#include "tests/support/temp_dir.h"
#include "tests/support/user_error.h"

namespace thaw {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

class Subgroups : public ::testing::Test {
 protected:
  void SetUp() override {
    // 12 test images: site A holds 0-5, site B 6-9, site blank 10-11; class "pos" on even ids.
    std::ofstream csv(dir_.path() / "data.csv");
    csv << "path,label,split,site,sex\n";
    for (int i = 0; i < 12; ++i) {
      csv << "img/" << i << ".jpg," << (i % 2 ? "neg" : "pos") << ",test," << (i < 6 ? "A" : i < 10 ? "B" : "")
          << ",F\n";
    }
    csv.close();
    // The model says p(pos) = 0.9 for ids 0-3 and 6, 0.2 otherwise; its call follows p >= 0.5.
    std::ostringstream p;
    p << "path,label,predicted,neg,pos\n";
    for (int i = 0; i < 12; ++i) {
      const bool high = i <= 3 || i == 6;
      p << (dir_.path() / "img" / (std::to_string(i) + ".jpg")).string() << ',' << (i % 2 ? "neg" : "pos") << ','
        << (high ? "pos,0.1,0.9" : "neg,0.8,0.2") << '\n';
    }
    test_ = predictions_from_csv(parse_csv(p.str(), "predictions-test.csv"));
  }
  std::string spec() const { return (dir_.path() / "data.csv").string(); }
  testkit::TempDir dir_{"thaw-subgroups"};
  Predictions test_;
};

TEST_F(Subgroups, CountsPerLevelAndTheirTests) {
  const nlohmann::json t = subgroup_tables(spec(), {"site"}, test_, "pos", 0.5, {});
  ASSERT_EQ(t.size(), 1u);
  const nlohmann::json& lv = t[0]["levels"];
  ASSERT_EQ(lv.size(), 3u);
  EXPECT_EQ(lv[0]["value"], "(blank)");  // byte order: '(' before 'A'
  EXPECT_EQ(lv[1]["value"], "A");
  // Site A, ids 0-5 (pos 0, 2, 4; called pos 0-3): right on 0, 2 and 5, so 3 of 6; sensitivity 2 of 3
  // (0 and 2 of 0, 2, 4); specificity 1 of 3 (5 of 1, 3, 5).
  EXPECT_EQ(lv[1]["samples"], 6);
  EXPECT_EQ(lv[1]["accuracy"]["successes"], 3);
  EXPECT_EQ(lv[1]["sensitivity"]["successes"], 2);
  EXPECT_EQ(lv[1]["sensitivity"]["trials"], 3);
  EXPECT_EQ(lv[1]["specificity"]["successes"], 1);
  // Site B: ids 6-9: 6 right, 7 right, 8 wrong, 9 right -> 3 of 4. Blank: 10 wrong, 11 right -> 1 of 2.
  EXPECT_EQ(lv[2]["accuracy"]["successes"], 3);
  EXPECT_EQ(lv[0]["accuracy"]["successes"], 1);
  const ChiSquareTest acc = chi_square_independence({{1, 1}, {3, 3}, {3, 1}});
  EXPECT_NEAR(t[0]["accuracy_test"]["p"].get<double>(), acc.p, 1e-15);
  const ChiSquareTest sens = chi_square_independence({{0, 1}, {2, 1}, {1, 1}});
  EXPECT_NEAR(t[0]["sensitivity_test"]["p"].get<double>(), sens.p, 1e-15);
}

TEST_F(Subgroups, RefusalsNameTheFlag) {
  EXPECT_THAT(testkit::user_error_of([&] { subgroup_tables(spec(), {"sex"}, test_, "pos", 0.5, {}); }),
              HasSubstr("--subgroups: column 'sex' has only the level 'F' among the test samples"));
  EXPECT_THAT(testkit::user_error_of([&] { check_subgroup_columns(spec(), {"age"}); }),
              HasSubstr("'age' is not a subgroup column of " + spec() + " (its other columns: site, sex)"));
  EXPECT_THAT(testkit::user_error_of([&] { check_subgroup_columns(spec(), {"label"}); }), HasSubstr("not a subgroup column"));
  EXPECT_THAT(testkit::user_error_of([&] { check_subgroup_columns("fashion-mnist", {"site"}); }),
              HasSubstr("is not a CSV manifest"));
  std::ofstream(dir_.path() / "data.csv", std::ios::app) << "";
  std::ofstream(dir_.path() / "other.csv") << "path,label,site\nimg/0.jpg,pos,A\n";
  EXPECT_THAT(testkit::user_error_of([&] {
                subgroup_tables((dir_.path() / "other.csv").string(), {"site"}, test_, "pos", 0.5, {});
              }),
              HasSubstr("is not in " + (dir_.path() / "other.csv").string()));
}

}  // namespace
}  // namespace thaw
