// The --val-fraction split: never a group in two splits, per-class shares close to the fraction,
// the same split for the same seed whatever the row order, another for another seed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "core/philox.h"
#include "io/split.h"
#include "tests/io/io_test_support.h"
#include "tests/io/synthetic_manifest.h"

namespace thaw {
namespace {

using ::testing::HasSubstr;
using testing::synthetic;
using testing::user_error_of;

std::map<std::string, DataSplit> assignment(const ImageManifest& m) {
  std::map<std::string, DataSplit> a;
  for (const ImageRecord& r : m.records) a[r.path.string()] = r.split;
  return a;
}

TEST(Split, OneImagePerGroupGivesExactRoundedCountsPerClass) {
  ImageManifest m = synthetic(2000, 3, 1, false);
  std::vector<int64_t> total(3, 0), val(3, 0);
  split_off_validation(m, 0.15, 7);
  for (const ImageRecord& r : m.records) {
    ++total[r.label];
    val[r.label] += r.split == DataSplit::Val;
  }
  for (int c = 0; c < 3; ++c) EXPECT_EQ(val[c], std::llround(0.15 * total[c])) << "class " << c;
}

TEST(Split, GroupsNeverCrossAndClassSharesStayClose) {
  for (const bool mixed : {false, true}) {
    SCOPED_TRACE(mixed ? "mixed-class groups" : "single-class groups");
    ImageManifest m = synthetic(3000, 4, 6, mixed);
    split_off_validation(m, 0.2, 11);
    std::map<std::string, std::set<DataSplit>> splits_of;
    std::vector<int64_t> total(4, 0), val(4, 0);
    for (const ImageRecord& r : m.records) {
      splits_of[r.group].insert(r.split);
      ++total[r.label];
      val[r.label] += r.split == DataSplit::Val;
    }
    for (const auto& [g, s] : splits_of) ASSERT_EQ(s.size(), 1u) << g;
    EXPECT_TRUE(groups_crossing_splits(m).empty());
    int64_t all_val = 0;
    for (int c = 0; c < 4; ++c) {
      all_val += val[c];
      // Measured: every class within 2.4 images of its target (groups of up to 6 images); a split that
      // ignored classes would miss by tens.
      EXPECT_NEAR(double(val[c]), 0.2 * total[c], 3.0) << "class " << c << " of " << total[c];
    }
    EXPECT_NEAR(double(all_val) / 3000.0, 0.2, 0.01);
  }
}

TEST(Split, SameSeedSameSplitWhateverTheRowOrderOtherSeedOtherSplit) {
  ImageManifest a = synthetic(500, 3, 3, true);
  ImageManifest b = a;
  std::reverse(b.records.begin(), b.records.end());
  ImageManifest c = a;
  split_off_validation(a, 0.25, 5);
  split_off_validation(b, 0.25, 5);
  split_off_validation(c, 0.25, 6);
  EXPECT_EQ(assignment(a), assignment(b));
  EXPECT_NE(assignment(a), assignment(c));
}

TEST(Split, KeepsTestRowsAndRefusesAnExistingValidationSplit) {
  ImageManifest m = synthetic(100, 2, 1, false);
  for (size_t i = 0; i < 20; ++i) m.records[i].split = DataSplit::Test;
  split_off_validation(m, 0.5, 1);
  int64_t test = 0, val = 0;
  for (const ImageRecord& r : m.records) {
    test += r.split == DataSplit::Test;
    val += r.split == DataSplit::Val;
  }
  EXPECT_EQ(test, 20);
  EXPECT_NEAR(double(val), 40.0, 1.0);  // half of the 80 train rows (rounded per class)
  EXPECT_THAT(user_error_of([&] { split_off_validation(m, 0.1, 1); }),
              HasSubstr("--val-fraction: synthetic.csv already names a validation split"));
  ImageManifest fresh = synthetic(10, 2, 1, false);
  EXPECT_THAT(user_error_of([&] { split_off_validation(fresh, 1.0, 1); }),
              HasSubstr("--val-fraction: expected a value in (0, 1), got 1"));
}

TEST(Split, CrossingGroupsAreReported) {
  ImageManifest m = synthetic(12, 2, 3, false);
  m.records[0].split = DataSplit::Test;  // patient0 now has rows in test and train (if it has more)
  m.records[1].group = m.records[0].group;
  const std::vector<GroupCrossing> cross = groups_crossing_splits(m);
  ASSERT_EQ(cross.size(), 1u);
  EXPECT_EQ(cross[0].group, m.records[0].group);
  EXPECT_THAT(cross[0].splits, ::testing::ElementsAre(DataSplit::Train, DataSplit::Test));
}

}  // namespace
}  // namespace thaw
