// `thaw stats` and `thaw samplesize` as a user runs them: eval.json and the table from committed
// prediction files (values against the scipy/statsmodels/sklearn reference), and exit code 2 with
// one line naming the file, line or flag for each kind of bad input.
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/cli/cli_harness.h"

namespace thaw::testing {
namespace {

std::string data(const std::string& name) { return std::string(THAW_SOURCE_DIR) + "/tests/stats/data/" + name; }

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

class StatsCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!thaw_binary_exists()) GTEST_SKIP() << "thaw binary not built: " << THAW_BINARY;
  }

  CommandResult thaw(const std::string& args) { return run_command(sh_quote(THAW_BINARY) + " " + args, dir_); }

  // Exit 2 and a single line on stderr; returns the line.
  std::string user_error(const std::string& args) {
    const CommandResult r = thaw(args);
    EXPECT_EQ(r.exit_code, 2) << describe(args, r);
    const std::string line = trim_right(r.err);
    EXPECT_EQ(line.find('\n'), std::string::npos) << describe(args, r);
    return line;
  }

  std::string write(const std::string& name, const std::string& text) {
    const std::string path = dir_ / name;
    std::ofstream(path) << text;
    return path;
  }

  ScratchDir dir_;
};

TEST_F(StatsCli, WritesEvalJsonAndTableWithComparison) {
  const std::string out = dir_ / "eval.json";
  const std::string args = "stats " + sh_quote(data("three_class_a.csv")) + " --out " + sh_quote(out) + " --compare " +
                           sh_quote(data("three_class_b.csv")) +
                           " --positive malignant --threshold 0.3 --ci exact --bootstrap 200 --seed 3";
  const CommandResult r = thaw(args);
  ASSERT_EQ(r.exit_code, 0) << describe(args, r);
  const nlohmann::json e = read_json(out);
  const nlohmann::json ref = read_json(data("reference.json"));
  const nlohmann::json& fa = ref["files"]["three_class_a.csv"];
  EXPECT_EQ(e["format"], "thaw-eval");
  EXPECT_EQ(e["ci_method"], "clopper-pearson");
  EXPECT_EQ(e["confusion_matrix"]["counts"], fa["confusion"]);
  EXPECT_NEAR(e["accuracy"]["lo"].get<double>(), fa["accuracy"]["exact"][0].get<double>(), 1e-9);
  EXPECT_NEAR(e["macro"]["auc"]["estimate"].get<double>(), fa["macro"]["auc"].get<double>(), 1e-9);
  EXPECT_EQ(e["bootstrap"]["replicates"], 200);
  EXPECT_EQ(e["bootstrap"]["seed"], 3);
  EXPECT_EQ(e["binary"]["tp"], ref["binary_views"][0]["tp"]);
  EXPECT_NEAR(e["comparison"]["mcnemar"]["p_holm"].get<double>(),
              ref["comparisons"][0]["mcnemar"]["p_holm"].get<double>(), 1e-9);
  // The table a reader sees (exact intervals, three decimals).
  EXPECT_NE(r.out.find("accuracy           0.760 [0.684, 0.826]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("McNemar exact: only A right 42, only B right 18, p 0.0027, Holm 0.0107"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("binary view: positive 'malignant', p >= 0.3000: TP 40, FP 30, FN 7, TN 73"), std::string::npos)
      << r.out;
}

TEST_F(StatsCli, GroupedFileResamplesGroups) {
  const std::string out = dir_ / "g.json";
  const CommandResult r = thaw("stats " + sh_quote(data("grouped.csv")) + " --out " + sh_quote(out) + " --bootstrap 100");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json e = read_json(out);
  EXPECT_EQ(e["bootstrap"]["unit"], "group");
  EXPECT_EQ(e["bootstrap"]["units"], 20);
  EXPECT_NE(r.out.find("(resampling whole groups: ["), std::string::npos) << r.out;
}

TEST_F(StatsCli, BadInputIsOneLineWithExitTwo) {
  const std::string a = data("three_class_a.csv");
  const std::string missing = write("missing.csv", "label,benign,malignant\nbenign,0.5,0.5\n");
  EXPECT_EQ(user_error("stats " + sh_quote(missing)),
            "thaw: error: " + missing + ": line 1: expected a column named 'predicted' in the header");
  const std::string text = write("text.csv", "label,predicted,a,b\na,a,0.5,0.5\nb,a,high,0.5\n");
  EXPECT_EQ(user_error("stats " + sh_quote(text)),
            "thaw: error: " + text + ": line 3, column 'a': expected a probability in [0, 1], got 'high'");
  const std::string sum = write("sum.csv", "label,predicted,a,b\na,a,0.5,0.4\n");
  EXPECT_EQ(user_error("stats " + sh_quote(sum)),
            "thaw: error: " + sum + ": line 2: expected the class probabilities to sum to 1 (within 0.001), they sum to 0.9");
  const std::string label = write("label.csv", "label,predicted,a,b\nc,a,0.5,0.5\n");
  EXPECT_EQ(user_error("stats " + sh_quote(label)),
            "thaw: error: " + label + ": line 2, column 'label': expected one of the header's classes (a, b), got 'c'");
  // Model B scored another test set: one hash differs.
  std::ifstream in(data("three_class_b.csv"));
  std::string b((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t first_row = b.find('\n') + 1;
  const std::string first_hash = b.substr(first_row, 16);  // on line 77 of A
  b.replace(first_row, 16, "ffffffffffffffff");
  const std::string other = write("other.csv", b);
  EXPECT_EQ(user_error("stats " + sh_quote(a) + " --compare " + sh_quote(other) + " --out " + sh_quote(dir_ / "x.json")),
            "thaw: error: " + a + ": line 77, column 'hash': sample '" + first_hash + "' is not in " + other +
                " (--compare expects predictions for the same samples)");
  EXPECT_EQ(user_error("stats " + sh_quote(a) + " --positive malignant --threshold 1.5"),
            "thaw: error: --threshold: expected a number in [0, 1], got 1.5 (see thaw --help)");
  EXPECT_EQ(user_error("stats " + sh_quote(a) + " --ci wald"), "thaw: error: --ci: expected wilson or exact, got 'wald'");
  EXPECT_NE(user_error("stats " + sh_quote(dir_ / "nope.csv")).find("nope.csv"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "eval.json"));  // nothing written on an error
}

TEST_F(StatsCli, SampleSizeNormalAndExact) {
  const CommandResult r = thaw("samplesize --metric sensitivity --expected 0.9 --half-width 0.05 --prevalence 0.2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("normal approximation:     139 positives, 695 samples in all"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("exact (Clopper-Pearson):  158 positives, 790 samples in all"), std::string::npos) << r.out;
  const CommandResult j =
      thaw("samplesize --metric specificity --expected 0.95 --half-width 0.03 --prevalence 0.2 --json");
  ASSERT_EQ(j.exit_code, 0) << j.err;
  const nlohmann::json v = nlohmann::json::parse(j.out);
  EXPECT_EQ(v["normal"]["negatives"], 203);
  EXPECT_EQ(v["exact"]["total"], 298);
  EXPECT_EQ(user_error("samplesize --metric accuracy --expected 0.9 --half-width 0.05 --prevalence 0.2"),
            "thaw: error: --metric: expected sensitivity or specificity, got 'accuracy'");
  EXPECT_EQ(user_error("samplesize --metric sensitivity --expected 0.9 --half-width 0.6 --prevalence 0.2"),
            "thaw: error: --half-width: expected a number in (0, 0.5), got 0.6 (see thaw --help)");
}

}  // namespace
}  // namespace thaw::testing
