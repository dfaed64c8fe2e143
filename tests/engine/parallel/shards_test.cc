// The one decision of a rank's rows (engine/parallel/shards.h): what each rank loads of a batch
// and where its shards start in what it loaded, for every layout the trainer and both steps meet.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "core/error.h"
#include "engine/parallel/shards.h"

namespace thaw {
namespace {

ShardLayout layout(int64_t batch, int64_t shards, int ranks, int rank) { return {batch, shards, ranks, rank}; }

TEST(RankRows, OneRankLoadsTheWholeBatch) {
  for (BadImagePolicy p : {BadImagePolicy::Fail, BadImagePolicy::Skip}) {
    const RankRows r = rank_rows(layout(8, 4, 1, 0), p);
    EXPECT_EQ(r.first, 0);
    EXPECT_EQ(r.count, 8);
    EXPECT_TRUE(r.whole_batch());
  }
}

TEST(RankRows, EachOfSeveralRanksLoadsItsOwnShards) {
  // B = 16, V = 8, N = 4: rank r owns shards 2r, 2r + 1, batch positions [4r, 4r + 4).
  for (int rank = 0; rank < 4; ++rank) {
    const RankRows r = rank_rows(layout(16, 8, 4, rank), BadImagePolicy::Fail);
    EXPECT_EQ(r.first, 4 * rank);
    EXPECT_EQ(r.count, 4);
    EXPECT_FALSE(r.whole_batch());
  }
}

TEST(RankRows, SkippingBadImagesLoadsTheWholeBatchOnEveryRank) {
  const RankRows r = rank_rows(layout(16, 8, 4, 3), BadImagePolicy::Skip);
  EXPECT_EQ(r.first, 0);
  EXPECT_EQ(r.count, 16);
}

TEST(RankRows, SelectCutsEveryBatchToTheRanksRows) {
  const std::vector<std::vector<int64_t>> batches = {{10, 11, 12, 13, 14, 15, 16, 17}, {20, 21, 22, 23, 24, 25, 26, 27}};
  const RankRows r = rank_rows(layout(8, 4, 2, 1), BadImagePolicy::Fail);
  EXPECT_EQ(select_rows(r, batches), (std::vector<std::vector<int64_t>>{{14, 15, 16, 17}, {24, 25, 26, 27}}));
  EXPECT_EQ(select_rows(rank_rows(layout(8, 4, 1, 0), BadImagePolicy::Fail), batches), batches);
  EXPECT_THROW(select_rows(r, {{1, 2, 3}}), InternalError);
}

TEST(ShardStarts, FromTheWholeBatchOrTheRanksOwnRows) {
  const ShardLayout s = layout(16, 8, 4, 2);  // rank 2: shards 4 and 5, positions [8, 12)
  EXPECT_EQ(shard_starts(s, 0, 16), (std::vector<int64_t>{8, 10}));  // the whole batch loaded
  EXPECT_EQ(shard_starts(s, 8, 4), (std::vector<int64_t>{0, 2}));    // its own rows only
  EXPECT_EQ(shard_starts(layout(8, 4, 1, 0), 0, 8), (std::vector<int64_t>{0, 2, 4, 6}));
  EXPECT_EQ(shard_starts(layout(8, 1, 1, 0), 0, 8), (std::vector<int64_t>{0}));
}

TEST(ShardStarts, RowsThatAreNeitherAreAnInternalError) {
  const ShardLayout s = layout(16, 8, 4, 2);
  EXPECT_THROW(shard_starts(s, 4, 4), InternalError);   // another rank's rows
  EXPECT_THROW(shard_starts(s, 0, 12), InternalError);  // part of the batch
  EXPECT_THROW(shard_starts(s, 8, 8), InternalError);
}

TEST(ShardStarts, AgreeWithWhatRankRowsLoads) {
  for (int ranks : {1, 2, 4}) {
    for (int rank = 0; rank < ranks; ++rank) {
      const ShardLayout s = layout(32, 8, ranks, rank);
      for (BadImagePolicy p : {BadImagePolicy::Fail, BadImagePolicy::Skip}) {
        const RankRows r = rank_rows(s, p);
        const std::vector<int64_t> starts = shard_starts(s, r.first, r.count);
        ASSERT_EQ(static_cast<int64_t>(starts.size()), s.shards_per_rank());
        for (size_t j = 0; j < starts.size(); ++j) {
          // Every shard starts at its global position, seen from the first loaded row.
          EXPECT_EQ(starts[j] + r.first, (s.first_shard() + static_cast<int64_t>(j)) * s.shard_size());
          EXPECT_LE(starts[j] + s.shard_size(), r.count);
        }
      }
    }
  }
}

}  // namespace
}  // namespace thaw
