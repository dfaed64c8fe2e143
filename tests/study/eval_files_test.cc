// The predictions file thaw eval writes: columns, sample identity (paths, content hashes made
// unique for byte-identical copies, groups), read back by `thaw stats`' reader; the classes of the
// data against the model's.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/error.h"
#include "io/csv.h"
#include "stats/predictions.h"
#include "study/eval_files.h"

namespace thaw {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class Rows final : public Dataset {
 public:
  Rows(std::vector<std::string> hashes, std::vector<std::string> paths, std::vector<std::string> groups,
       std::vector<std::string> names = {"cat", "dog"})
      : hashes_(std::move(hashes)), paths_(std::move(paths)), groups_(std::move(groups)), names_(std::move(names)) {}
  int64_t size() const override { return static_cast<int64_t>(hashes_.size()); }
  int64_t num_classes() const override { return static_cast<int64_t>(names_.size()); }
  std::vector<std::string> class_names() const override { return names_; }
  int32_t label(int64_t i) const override { return static_cast<int32_t>(i % 2); }
  void load(int64_t, int64_t, LoadMode, float*) const override {}
  std::string describe() const override { return "rows"; }
  std::string content_hash(int64_t i) const override { return hashes_[i]; }
  std::string source_path(int64_t i) const override { return paths_.empty() ? "" : paths_[i]; }
  std::string group(int64_t i) const override { return groups_.empty() ? "" : groups_[i]; }

 private:
  std::vector<std::string> hashes_, paths_, groups_, names_;
};

DatasetPredictions three_predictions() {
  DatasetPredictions p;
  p.samples = 3;
  p.classes = 2;
  p.labels = {0, 1, 0};
  p.predicted = {0, 0, 1};
  p.probs = {0.75, 0.25, 0.6, 0.4, 0.1, 0.9};
  return p;
}

TEST(PredictionsCsv, IdentifiesEverySampleAndReadsBackAsThawStatsReadsIt) {
  const Rows data({"aa", "bb", "aa"}, {}, {});
  const std::string csv = predictions_csv(data, three_predictions(), {"cat", "dog"}, "test");
  EXPECT_EQ(csv,
            "path,hash,label,predicted,cat,dog\n"
            "test:0,aa,cat,cat,0.75,0.25\n"
            "test:1,bb,dog,cat,0.6,0.4\n"
            "test:2,aa#2,cat,dog,0.1,0.9\n");
  const Predictions p = predictions_from_csv(parse_csv(csv, "p.csv"));
  EXPECT_THAT(p.classes, ElementsAre("cat", "dog"));
  EXPECT_THAT(p.hashes, ElementsAre("aa", "bb", "aa#2"));
  EXPECT_THAT(p.predicted, ElementsAre(0, 0, 1));
  EXPECT_TRUE(p.groups.empty());
}

TEST(PredictionsCsv, FilePathsAndGroupsWhenTheDataHasThem) {
  const Rows data({"aa", "bb", "cc"}, {"x/1.png", "x/2,b.png", "x/3.png"}, {"p1", "", "p1"});
  const std::string csv = predictions_csv(data, three_predictions(), {"cat", "dog"}, "val");
  EXPECT_THAT(csv, HasSubstr("path,hash,label,predicted,cat,dog,group\n"));
  EXPECT_THAT(csv, HasSubstr("\"x/2,b.png\",bb,dog,cat,0.6,0.4,\"#x/2,b.png\"\n"));
  const Predictions p = predictions_from_csv(parse_csv(csv, "p.csv"));
  ASSERT_EQ(p.groups.size(), 3u);
  EXPECT_EQ(p.groups[0], "p1");
  EXPECT_EQ(p.groups[2], "p1");
  EXPECT_NE(p.groups[1], "p1");  // no group: a group of its own
  EXPECT_THAT(p.paths, ElementsAre("x/1.png", "x/2,b.png", "x/3.png"));
}

TEST(EvalClasses, DataClassesMustBeTheModels) {
  EvalModel m;
  m.weights = "w.safetensors";
  m.classes = 3;
  m.class_names = {"bag", "cat", "dog"};
  const Rows two({"a"}, {}, {}, {"dog", "cat"});
  EXPECT_THAT(model_class_of_data_class(m, two), ElementsAre(2, 1));  // by name
  const Rows other({"a"}, {}, {}, {"cat", "zebra"});
  try {
    model_class_of_data_class(m, other);
    ADD_FAILURE() << "expected a UserError";
  } catch (const UserError& e) {
    EXPECT_THAT(e.what(), HasSubstr("class 'zebra' is not a class of the model (bag, cat, dog: w.safetensors)"));
  }
  m.class_names.clear();  // a model without names: by index, and no more classes than it has
  EXPECT_THAT(model_class_of_data_class(m, other), ElementsAre(0, 1));
  const Rows four({"a"}, {}, {}, {"a", "b", "c", "d"});
  try {
    model_class_of_data_class(m, four);
    ADD_FAILURE() << "expected a UserError";
  } catch (const UserError& e) {
    EXPECT_THAT(e.what(), HasSubstr("has 4 classes, the model (w.safetensors) only 3"));
  }
}

TEST(EvalRequest, ThresholdAndPositiveAreCheckedBeforeAnyWork) {
  EvalModel m;
  m.weights = "w.safetensors";
  m.classes = 2;
  m.class_names = {"benign", "malignant"};
  EvalFilesRequest r;
  r.stats.positive = "malignant";
  r.stats.threshold = 1.5;
  try {
    check_eval_request(m, r);
    ADD_FAILURE() << "expected a UserError";
  } catch (const UserError& e) {
    EXPECT_THAT(e.what(), HasSubstr("--threshold: expected a probability in [0, 1], got 1.5"));
  }
  r.stats.threshold = 0.3;
  r.stats.positive = "normal";
  try {
    check_eval_request(m, r);
    ADD_FAILURE() << "expected a UserError";
  } catch (const UserError& e) {
    EXPECT_THAT(e.what(), HasSubstr("--positive"));
  }
}

}  // namespace
}  // namespace thaw
