// The GPU step's batch buffer layout (engine/gpu/staging_layout.h), checked on the CPU: every
// shard starts 256-byte aligned, shards never overlap, and the buffer holds them all, for the
// shapes cuda_train_step_test runs (batch 4 in 2 shards at 139 px: 3 x 139 x 139 is odd) and 299.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "engine/gpu/staging_layout.h"
#include "engine/parallel/shards.h"

namespace thaw {
namespace {

void check(int64_t batch, int64_t shards, int64_t size) {
  const ShardLayout s{batch, shards, 1, 0};
  const std::vector<int64_t> starts = shard_starts(s, 0, batch);
  const int64_t per_row = 3 * size * size;
  const StagingLayout l = staging_layout(starts, s.shard_size(), per_row);
  ASSERT_EQ(l.offsets.size(), static_cast<size_t>(shards));
  const int64_t shard_floats = s.shard_size() * per_row;
  for (size_t j = 0; j < l.offsets.size(); ++j) {
    EXPECT_EQ(l.offsets[j] * 4 % 256, 0) << "shard " << j << " of " << shards << " at " << size;
    if (j > 0) {
      EXPECT_GE(l.offsets[j], l.offsets[j - 1] + shard_floats);
    }
    EXPECT_LE(l.offsets[j] + shard_floats, l.floats);
  }
  EXPECT_EQ(l.floats, l.offsets.back() + shard_floats);  // no tail beyond the last shard
}

TEST(StagingLayout, EveryShardStartsAlignedWherePackedShardsWouldNot) {
  // Packed, shard 1 of batch 4 in 2 shards at 139 px would start at 2 x 57963 floats: 8-byte aligned only.
  EXPECT_NE(2 * 3 * 139 * 139 * 4 % 16, 0);
  check(4, 2, 139);
  check(8, 8, 299);
  check(32, 8, 75);
  check(6, 1, 299);
}

TEST(StagingLayout, OneShardIsThePackedBatch) {
  const std::vector<int64_t> starts = {0};
  const StagingLayout l = staging_layout(starts, 5, 3 * 75 * 75);
  EXPECT_EQ(l.offsets, (std::vector<int64_t>{0}));
  EXPECT_EQ(l.floats, 5 * 3 * 75 * 75);
}

}  // namespace
}  // namespace thaw
