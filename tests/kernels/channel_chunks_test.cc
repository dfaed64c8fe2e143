// The GPU batch norm's work split (kernels/cuda/channel_chunks.h), checked on the CPU: every value
// of every channel lies in exactly one run, the runs are in order, the NCHW or channels-last index
// is the value's and its channel is the run's (the same runs in either layout, so the same sums), and
// the stem's batch norm at batch 128 gives the GPU thousands of blocks, not 32.
#include "kernels/cuda/channel_chunks.h"

#include <gtest/gtest.h>

#include <vector>

namespace thaw::cuda {
namespace {

void expect_exact_cover(int64_t n, int64_t c, int64_t hw, bool nhwc) {
  const ChannelChunks v = ChannelChunks::of(n, c, hw, nhwc);
  ASSERT_EQ(v.chunks, ChannelChunks::of(n, c, hw).chunks);
  ASSERT_GE(v.chunks, 1);
  ASSERT_LE(v.chunks, ChannelChunks::kMaxChunks);
  std::vector<char> seen(static_cast<size_t>(n * c * hw), 0);
  for (int64_t ch = 0; ch < c; ++ch) {
    int64_t next = 0;
    for (int64_t k = 0; k < v.chunks; ++k) {
      ASSERT_EQ(v.begin(k), next) << "run " << k << " of " << n << "x" << c << "x" << hw;
      ASSERT_LE(v.end(k) - v.begin(k), v.chunk);
      for (int64_t m = v.begin(k); m < v.end(k); ++m) {
        const int64_t i = v.at(ch, m);
        ASSERT_EQ(i, nhwc ? ((m / hw) * hw + m % hw) * c + ch : ((m / hw) * c + ch) * hw + m % hw);
        ASSERT_EQ(v.channel_of(i), ch);
        ASSERT_EQ(seen[static_cast<size_t>(i)]++, 0) << "index " << i << " twice";
      }
      next = v.end(k);
    }
    ASSERT_EQ(next, n * hw);
  }
  for (char s : seen) ASSERT_EQ(s, 1);
}

TEST(ChannelChunks, EveryValueInExactlyOneRun) {
  for (const bool nhwc : {false, true}) {
    expect_exact_cover(1, 1, 1, nhwc);
    expect_exact_cover(2, 3, 5, nhwc);
    expect_exact_cover(2, 4, 147 * 147, nhwc);  // two runs per channel
    expect_exact_cover(3, 2, 32768 + 1, nhwc);  // a last run shorter than the rest
    expect_exact_cover(16, 8, 64, nhwc);
  }
}

TEST(ChannelChunks, LargeBatchNormsFillTheGpu) {
  const ChannelChunks stem = ChannelChunks::of(128, 32, 147 * 147);
  EXPECT_GE(stem.c * stem.chunks, 2000);
  const ChannelChunks late = ChannelChunks::of(128, 1536, 8 * 8);
  EXPECT_EQ(late.chunks, 1);  // 8,192 values per channel: one block each, 1,536 blocks
  const ChannelChunks huge = ChannelChunks::of(4096, 1, 299 * 299);
  EXPECT_EQ(huge.chunks, ChannelChunks::kMaxChunks);
  EXPECT_GE(huge.chunk * huge.chunks, huge.values());
}

}  // namespace
}  // namespace thaw::cuda
