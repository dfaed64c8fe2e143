// Dataset views: class subsets (parsing, renumbering, errors), training without augmentation, the
// validation split carved out of train-only data, and the test split carved out of image data.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "io/carved_split.h"
#include "io/dataset_view.h"
#include "io/split.h"
#include "io/test_split.h"
#include "tests/io/io_test_support.h"

namespace thaw {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::user_error_of;

// Sample i has label i % classes; its pixels are all (i + 100 * mode.train + epoch); its content
// hash repeats every `period` samples (byte-identical copies).
class Toy final : public Dataset {
 public:
  Toy(int64_t n, int classes, int64_t period = 0) : n_(n), classes_(classes), period_(period) {}
  int64_t size() const override { return n_; }
  int64_t num_classes() const override { return classes_; }
  std::vector<std::string> class_names() const override {
    std::vector<std::string> v;
    for (int c = 0; c < classes_; ++c) v.push_back("k" + std::to_string(c));
    return v;
  }
  int32_t label(int64_t i) const override { return static_cast<int32_t>(i % classes_); }
  void load(int64_t i, int64_t size, LoadMode mode, float* chw) const override {
    std::fill(chw, chw + 3 * size * size, static_cast<float>(i + 100 * mode.train + mode.epoch));
  }
  std::string describe() const override { return "toy"; }
  std::string content_hash(int64_t i) const override {
    return "h" + std::to_string(period_ > 0 ? i % period_ : i);
  }
  std::string source_path(int64_t i) const override { return "f" + std::to_string(i); }

 private:
  int64_t n_;
  int classes_;
  int64_t period_;
};

TEST(ClassSubset, ParsesIndicesRangesAndNamesInTheOrderGiven) {
  const std::vector<std::string> names = {"a", "b", "c", "d", "e", "3"};
  EXPECT_THAT(parse_class_subset("0-2", names), ElementsAre(0, 1, 2));
  EXPECT_THAT(parse_class_subset("4,1", names), ElementsAre(4, 1));
  EXPECT_THAT(parse_class_subset("e,a", names), ElementsAre(4, 0));
  // A class named "3" is the name, not index 3.
  EXPECT_THAT(parse_class_subset("3,d", names), ElementsAre(5, 3));
  EXPECT_THAT(user_error_of([&] { parse_class_subset("0-9", names); }), HasSubstr("'0-9' is not a class"));
  EXPECT_THAT(user_error_of([&] { parse_class_subset("a,0", names); }), HasSubstr("named twice"));
  EXPECT_THAT(user_error_of([&] { parse_class_subset("zebra,a", names); }), HasSubstr("'zebra' is neither"));
  EXPECT_THAT(user_error_of([&] { parse_class_subset("a,,b", names); }), HasSubstr("empty item"));
  EXPECT_THAT(user_error_of([&] { parse_class_subset("b", names); }), HasSubstr("at least 2"));
}

TEST(ClassSubset, KeepsTheSamplesOfTheClassesRenumbered) {
  const std::unique_ptr<Dataset> d = with_class_subset(std::make_unique<Toy>(20, 5), "3,1");
  ASSERT_EQ(d->size(), 8);  // 4 of class 1, 4 of class 3, in index order
  EXPECT_THAT(d->class_names(), ElementsAre("k3", "k1"));
  EXPECT_EQ(d->num_classes(), 2);
  std::vector<int32_t> labels;
  std::vector<std::string> paths;
  for (int64_t i = 0; i < d->size(); ++i) {
    labels.push_back(d->label(i));
    paths.push_back(d->source_path(i));
  }
  EXPECT_THAT(labels, ElementsAre(1, 0, 1, 0, 1, 0, 1, 0));
  EXPECT_THAT(paths, ElementsAre("f1", "f3", "f6", "f8", "f11", "f13", "f16", "f18"));
  EXPECT_EQ(d->content_hash(2), "h6");
  float px[3 * 2 * 2];
  d->load(1, 2, LoadMode::eval(), px);
  EXPECT_EQ(px[0], 3.0f);
  // No subset: the same object back.
  auto base = std::make_unique<Toy>(4, 2);
  const Dataset* raw = base.get();
  EXPECT_EQ(with_class_subset(std::move(base), "").get(), raw);
}

TEST(NoAugment, TrainingLoadsGetTheEvaluationPixels) {
  const std::unique_ptr<Dataset> d = without_augmentation(std::make_unique<Toy>(5, 2));
  float train[12], eval[12];
  d->load(3, 2, LoadMode::training(4), train);
  d->load(3, 2, LoadMode::eval(), eval);
  EXPECT_EQ(train[0], 3.0f);
  EXPECT_EQ(eval[0], 3.0f);
  EXPECT_THAT(d->describe(), HasSubstr("no augmentation"));
}

TEST(CarvedValidation, StratifiedDisjointCompleteAndSeeded) {
  const int64_t n = 1000;
  const auto train = carve_validation(std::make_unique<Toy>(n, 4), DataSplit::Train, 0.2, 5);
  const auto val = carve_validation(std::make_unique<Toy>(n, 4), DataSplit::Val, 0.2, 5);
  ASSERT_EQ(train->size() + val->size(), n);
  std::set<std::string> seen;
  std::vector<int64_t> per_class(4, 0);
  for (int64_t i = 0; i < val->size(); ++i) {
    seen.insert(val->source_path(i));
    ++per_class[val->label(i)];
  }
  for (int64_t i = 0; i < train->size(); ++i) EXPECT_TRUE(seen.insert(train->source_path(i)).second);
  EXPECT_EQ(seen.size(), static_cast<size_t>(n));
  for (int c = 0; c < 4; ++c) EXPECT_EQ(per_class[c], 50) << "class " << c;  // round(0.2 * 250)
  const auto again = carve_validation(std::make_unique<Toy>(n, 4), DataSplit::Val, 0.2, 5);
  const auto other = carve_validation(std::make_unique<Toy>(n, 4), DataSplit::Val, 0.2, 6);
  bool same = true, differs = false;
  for (int64_t i = 0; i < val->size(); ++i) {
    same = same && again->source_path(i) == val->source_path(i);
    differs = differs || other->source_path(i) != val->source_path(i);
  }
  EXPECT_TRUE(same);
  EXPECT_TRUE(differs);
}

TEST(CarvedValidation, ByteIdenticalSamplesStayOnOneSide) {
  // Every content hash appears 4 times (period 250 over 1000 samples, one class per copy set).
  const auto val = carve_validation(std::make_unique<Toy>(1000, 2, 250), DataSplit::Val, 0.3, 1);
  const auto train = carve_validation(std::make_unique<Toy>(1000, 2, 250), DataSplit::Train, 0.3, 1);
  std::set<std::string> val_hashes;
  for (int64_t i = 0; i < val->size(); ++i) val_hashes.insert(val->content_hash(i));
  for (int64_t i = 0; i < train->size(); ++i) EXPECT_FALSE(val_hashes.contains(train->content_hash(i))) << i;
  EXPECT_EQ(val->size() % 4, 0);
}

ImageManifest folder_like(int64_t n, int classes) {
  ImageManifest m;
  m.source = "folder";
  for (int c = 0; c < classes; ++c) m.class_names.push_back("c" + std::to_string(c));
  for (int64_t i = 0; i < n; ++i) {
    ImageRecord r;
    r.path = "img" + std::to_string(i) + ".png";
    r.label = static_cast<int32_t>(i % classes);
    m.records.push_back(r);
  }
  return m;
}

TEST(TestSplit, CarvesTestThenValidationFromWhatIsLeft) {
  ImageManifest m = folder_like(600, 3);
  split_off_test(m, 0.2, 9);
  std::vector<int64_t> test(3, 0);
  for (const ImageRecord& r : m.records) test[r.label] += r.split == DataSplit::Test;
  for (int c = 0; c < 3; ++c) EXPECT_EQ(test[c], 40) << "class " << c;  // round(0.2 * 200)
  const ImageManifest after_test = m;
  split_off_validation(m, 0.25, 9);
  std::vector<int64_t> val(3, 0);
  for (size_t i = 0; i < m.records.size(); ++i) {
    const ImageRecord& r = m.records[i];
    if (after_test.records[i].split == DataSplit::Test) EXPECT_EQ(r.split, DataSplit::Test);
    val[r.label] += r.split == DataSplit::Val;
  }
  for (int c = 0; c < 3; ++c) EXPECT_EQ(val[c], 40) << "class " << c;  // round(0.25 * 160)
}

TEST(TestSplit, KeepsExistingValidationRowsAndRefusesExistingTestRows) {
  ImageManifest m = folder_like(100, 2);
  m.records[0].split = DataSplit::Val;
  m.records[1].split = DataSplit::Val;
  split_off_test(m, 0.1, 3);
  EXPECT_EQ(m.records[0].split, DataSplit::Val);
  EXPECT_EQ(m.records[1].split, DataSplit::Val);
  int64_t test = 0;
  for (const ImageRecord& r : m.records) test += r.split == DataSplit::Test;
  EXPECT_EQ(test, 10);
  EXPECT_THAT(user_error_of([&] { split_off_test(m, 0.1, 3); }), HasSubstr("already names a test split"));
  ImageManifest fresh = folder_like(10, 2);
  EXPECT_THAT(user_error_of([&] { split_off_test(fresh, 1.5, 3); }), HasSubstr("--test-fraction: expected a value in (0, 1)"));
}

}  // namespace
}  // namespace thaw
