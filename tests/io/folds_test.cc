// k-fold assignment (io/folds.h): every record in one fold, no group in two, each class spread over
// the folds within one image where groups are single images, the same folds for the same seed
// whatever the row order and the rows' own splits, and one-line errors for folds the data cannot take.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "io/folds.h"
#include "io/split.h"
#include "tests/io/io_test_support.h"
#include "tests/io/synthetic_manifest.h"

namespace thaw {
namespace {

using ::testing::HasSubstr;
using testing::synthetic;
using testing::user_error_of;

std::map<std::string, int> fold_by_path(const ImageManifest& m, const std::vector<int>& folds) {
  std::map<std::string, int> out;
  for (size_t i = 0; i < m.records.size(); ++i) out[m.records[i].path.string()] = folds[i];
  return out;
}

TEST(Folds, SingleImageGroupsSpreadEveryClassWithinOneImage) {
  for (const int k : {2, 3, 5, 10}) {
    for (const uint64_t seed : {0u, 1u, 77u}) {
      const ImageManifest m = synthetic(997, 4, 1, false);
      const std::vector<int> fold = assign_folds(m, k, seed);
      std::vector<std::vector<int64_t>> count(4, std::vector<int64_t>(static_cast<size_t>(k), 0));
      std::vector<int64_t> size(static_cast<size_t>(k), 0);
      for (size_t i = 0; i < m.records.size(); ++i) {
        ASSERT_GE(fold[i], 0);
        ASSERT_LT(fold[i], k);
        ++count[static_cast<size_t>(m.records[i].label)][static_cast<size_t>(fold[i])];
        ++size[static_cast<size_t>(fold[i])];
      }
      for (size_t c = 0; c < 4; ++c) {
        const auto [lo, hi] = std::minmax_element(count[c].begin(), count[c].end());
        EXPECT_LE(*hi - *lo, 1) << "class " << c << ", K " << k << ", seed " << seed;
      }
      const auto [lo, hi] = std::minmax_element(size.begin(), size.end());
      EXPECT_LE(*hi - *lo, 4) << "fold sizes, K " << k;  // at most one image of each class apart
    }
  }
}

TEST(Folds, GroupsNeverSplitAndClassSharesStayClose) {
  for (const bool mixed : {false, true}) {
    const ImageManifest m = synthetic(3000, 4, 6, mixed);
    const int k = 5;
    const std::vector<int> fold = assign_folds(m, k, 3);
    std::map<std::string, std::set<int>> folds_of_group;
    std::vector<std::vector<int64_t>> count(4, std::vector<int64_t>(k, 0));
    std::vector<int64_t> total(4, 0);
    for (size_t i = 0; i < m.records.size(); ++i) {
      folds_of_group[group_key(m.records[i])].insert(fold[i]);
      ++count[static_cast<size_t>(m.records[i].label)][static_cast<size_t>(fold[i])];
      ++total[static_cast<size_t>(m.records[i].label)];
    }
    for (const auto& [g, f] : folds_of_group) EXPECT_EQ(f.size(), 1u) << g << " is in several folds";
    for (size_t c = 0; c < 4; ++c) {
      for (int f = 0; f < k; ++f) {
        // Within one group's size (6) of the class's even share.
        EXPECT_NEAR(static_cast<double>(count[c][f]), static_cast<double>(total[c]) / k, 6.0)
            << "class " << c << " fold " << f << (mixed ? " (mixed groups)" : "");
      }
    }
  }
}

TEST(Folds, ApplyingEachFoldTestsEveryRecordExactlyOnce) {
  const ImageManifest base = synthetic(400, 3, 3, true);
  const int k = 4;
  std::vector<int> tested(base.records.size(), 0);
  for (int f = 0; f < k; ++f) {
    ImageManifest m = base;
    apply_fold(m, k, f, 11);
    int64_t test = 0;
    for (size_t i = 0; i < m.records.size(); ++i) {
      ASSERT_NE(m.records[i].split, DataSplit::Val);
      if (m.records[i].split == DataSplit::Test) {
        ++tested[i];
        ++test;
      }
    }
    EXPECT_GT(test, 0);
    // Validation is then carved out of the training folds only: the test fold stays as it was.
    const ImageManifest before = m;
    split_off_validation(m, 0.2, 11);
    int64_t val = 0;
    for (size_t i = 0; i < m.records.size(); ++i) {
      EXPECT_EQ(m.records[i].split == DataSplit::Test, before.records[i].split == DataSplit::Test) << i;
      val += m.records[i].split == DataSplit::Val;
    }
    EXPECT_GT(val, 0);
  }
  for (size_t i = 0; i < tested.size(); ++i) EXPECT_EQ(tested[i], 1) << "record " << i;
}

TEST(Folds, SameSeedSameFoldsWhateverRowOrderAndOwnSplitsOtherSeedOthers) {
  const ImageManifest a = synthetic(600, 3, 3, true);
  ImageManifest b = a;
  std::reverse(b.records.begin(), b.records.end());
  for (size_t i = 0; i < b.records.size(); i += 3) b.records[i].split = i % 2 ? DataSplit::Val : DataSplit::Test;
  const auto fa = fold_by_path(a, assign_folds(a, 5, 21));
  EXPECT_EQ(fa, fold_by_path(b, assign_folds(b, 5, 21)));
  const auto other = fold_by_path(a, assign_folds(a, 5, 22));
  int64_t moved = 0;
  for (const auto& [p, f] : fa) moved += other.at(p) != f;
  EXPECT_GT(moved, 200) << "another seed should deal the groups out differently";
}

TEST(Folds, RefusesWhatTheDataCannotTake) {
  ImageManifest m = synthetic(40, 2, 1, false);
  EXPECT_THAT(user_error_of([&] { assign_folds(m, 1, 0); }), HasSubstr("--folds: expected 2 or more folds, got 1"));
  EXPECT_THAT(user_error_of([&] { apply_fold(m, 5, 5, 0); }),
              HasSubstr("--fold: expected a fold from 0 to 4 (of --folds 5), got 5"));
  // A class with three images cannot be tested in each of five folds.
  int kept = 0;
  std::erase_if(m.records, [&](const ImageRecord& r) { return r.label == 1 && ++kept > 3; });
  EXPECT_THAT(user_error_of([&] { assign_folds(m, 5, 0); }),
              HasSubstr("--folds 5: class 'c1' of synthetic.csv is in 3 image(s), fewer than the folds"));
  EXPECT_THAT(user_error_of([&] { assign_folds(m, 5, 0); }), HasSubstr("give --folds 3 or fewer"));
  EXPECT_NO_THROW(assign_folds(m, 3, 0));
}

}  // namespace
}  // namespace thaw
