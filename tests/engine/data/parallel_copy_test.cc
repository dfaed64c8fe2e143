// parallel_copy gives memcpy's bytes at every size around its chunk (4 MiB) and leaves the bytes
// after the destination alone.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "engine/data/parallel_copy.h"

namespace thaw {
namespace {

TEST(ParallelCopy, CopiesEveryByteAtEverySize) {
  constexpr size_t kChunk = size_t{4} << 20;
  for (const size_t bytes : {size_t{0}, size_t{1}, size_t{4099}, kChunk - 1, kChunk, kChunk + 1, 3 * kChunk + 17}) {
    std::vector<unsigned char> src(bytes), dst(bytes + 8, 0xAB);
    for (size_t i = 0; i < bytes; ++i) src[i] = static_cast<unsigned char>((i * 2654435761u) >> 13);
    parallel_copy(dst.data(), src.data(), bytes);
    EXPECT_TRUE(std::equal(src.begin(), src.end(), dst.begin())) << bytes << " bytes";
    for (size_t i = bytes; i < dst.size(); ++i) ASSERT_EQ(dst[i], 0xAB) << "byte " << i << " past " << bytes;
  }
}

}  // namespace
}  // namespace thaw
