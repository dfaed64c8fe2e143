// Reading a predictions file: the columns it may have, and one clear message (file, line, column,
// what was expected) for each kind of bad input.
#include <gtest/gtest.h>

#include "core/error.h"
#include "stats/comparison.h"
#include "stats/evaluation.h"
#include "stats/predictions.h"
#include "tests/stats/stats_reference.h"

namespace thaw {
namespace {

Predictions parse(const std::string& text) { return predictions_from_csv(parse_csv(text, "p.csv")); }

std::string error_of(const std::string& text) {
  try {
    parse(text);
  } catch (const UserError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Predictions, ReadsClassesInHeaderOrderAndOptionalColumns) {
  const Predictions p = parse("group,label,predicted,dog,cat,path\nx,cat,dog,0.6,0.4,a.png\ny,dog,dog,1,0,b.png\n");
  EXPECT_EQ(p.classes, (std::vector<std::string>{"dog", "cat"}));
  EXPECT_EQ(p.labels, (std::vector<int>{1, 0}));
  EXPECT_EQ(p.predicted, (std::vector<int>{0, 0}));
  EXPECT_DOUBLE_EQ(p.prob(0, 1), 0.4);
  EXPECT_EQ(p.groups, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(p.paths, (std::vector<std::string>{"a.png", "b.png"}));
  EXPECT_TRUE(p.hashes.empty());
}

TEST(Predictions, BadInputNamesFileLineAndColumn) {
  EXPECT_EQ(error_of("predicted,a,b\na,0.5,0.5\n"), "p.csv: line 1: expected a column named 'label' in the header");
  EXPECT_EQ(error_of("label,a,b\na,0.5,0.5\n"), "p.csv: line 1: expected a column named 'predicted' in the header");
  EXPECT_EQ(error_of("label,predicted,a\na,a,1\n"),
            "p.csv: line 1: expected a probability column per class (at least two) after label,predicted; found 1");
  EXPECT_EQ(error_of("label,predicted,a,b\na,a,0.5,x\n"),
            "p.csv: line 2, column 'b': expected a probability in [0, 1], got 'x'");
  EXPECT_EQ(error_of("label,predicted,a,b\na,a,1.5,-0.5\n"),
            "p.csv: line 2, column 'a': expected a probability in [0, 1], got '1.5'");
  EXPECT_EQ(error_of("label,predicted,a,b\na,a,0.5,0.5\nb,a,0.5,0.6\n"),
            "p.csv: line 3: expected the class probabilities to sum to 1 (within 0.001), they sum to 1.1");
  EXPECT_EQ(error_of("label,predicted,a,b\nc,a,0.5,0.5\n"),
            "p.csv: line 2, column 'label': expected one of the header's classes (a, b), got 'c'");
  EXPECT_EQ(error_of("label,predicted,a,b\na,,0.5,0.5\n"),
            "p.csv: line 2, column 'predicted': expected one of the header's classes (a, b), got ''");
  EXPECT_EQ(error_of("label,predicted,a,a\na,a,0.5,0.5\n"), "p.csv: line 1: column 'a' appears twice in the header");
  EXPECT_EQ(error_of("label,predicted,a,b\n"), "p.csv: expected at least one row of predictions after the header");
  EXPECT_EQ(error_of("label,predicted,a,b,group\na,a,0.5,0.5,\n"),
            "p.csv: line 2, column 'group': expected a value, got an empty field");
}

std::string option_error(const EvalOptions& o) {
  const Predictions p = parse("label,predicted,a,b\na,a,0.5,0.5\nb,b,0.2,0.8\n");
  try {
    check_eval_options(p, o);
  } catch (const UserError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Predictions, OptionsAreChecked) {
  EvalOptions o;
  o.positive = "b";
  o.threshold = 1.5;
  EXPECT_EQ(option_error(o), "--threshold: expected a probability in [0, 1], got 1.5");
  o.positive = "c";
  o.threshold = 0.5;
  EXPECT_EQ(option_error(o), "--positive: expected one of the classes of p.csv (a, b), got 'c'");
  o.positive.clear();
  EXPECT_EQ(option_error(o), "--threshold: needs --positive CLASS (the class the threshold applies to)");
}

std::string compare_error(const std::string& a, const std::string& b) {
  try {
    match_samples(predictions_from_csv(parse_csv(a, "a.csv")), predictions_from_csv(parse_csv(b, "b.csv")));
  } catch (const UserError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Predictions, ComparingDifferentSampleSetsIsRefused) {
  const std::string a = "hash,label,predicted,x,y\nh1,x,x,0.9,0.1\nh2,y,x,0.6,0.4\n";
  EXPECT_EQ(compare_error(a, "hash,label,predicted,x,y\nh2,y,y,0.1,0.9\nh1,x,x,0.9,0.1\n"), "(no error)");
  EXPECT_EQ(compare_error(a, "hash,label,predicted,x,y\nh1,x,x,0.9,0.1\nh3,y,x,0.6,0.4\n"),
            "a.csv: line 3, column 'hash': sample 'h2' is not in b.csv (--compare expects predictions for the same samples)");
  EXPECT_EQ(compare_error(a, "hash,label,predicted,x,y\nh1,x,x,0.9,0.1\nh2,y,x,0.6,0.4\nh4,y,x,0.6,0.4\n"),
            "b.csv: line 4, column 'hash': sample 'h4' is not in a.csv (--compare expects predictions for the same samples)");
  EXPECT_EQ(compare_error(a, "hash,label,predicted,x,y\nh1,x,x,0.9,0.1\nh2,x,x,0.6,0.4\n"),
            "b.csv: line 3, column 'label': expected 'y' as in a.csv line 3 (the same sample), got 'x'");
  EXPECT_EQ(compare_error(a, "label,predicted,x,y\nx,x,0.9,0.1\n"),
            "b.csv: expected 2 rows as in a.csv (matched by row order: neither a 'hash' nor a 'path' column in both), got 1");
  EXPECT_EQ(compare_error(a, "hash,label,predicted,x,z\nh1,x,x,0.9,0.1\nh2,x,x,0.6,0.4\n"),
            "b.csv: line 1: expected a column for class 'y' as in a.csv");
}

}  // namespace
}  // namespace thaw
