#pragma once
// Launch shapes shared by our kernels. Elementwise kernels use grid-stride loops, so any grid size
// gives the same result; reductions fix their thread count here, because their summation order
// depends on it (and on nothing else).
#include <cstdint>

namespace thaw::cuda {

// Threads of an elementwise block.
constexpr int kElementwiseThreads = 256;
// Threads of a reduction block: part of the summation order of every fixed-tree reduction.
constexpr int kReduceThreads = 256;

inline unsigned int elementwise_blocks(int64_t count) {
  constexpr int64_t kMaxBlocks = int64_t{1} << 20;
  const int64_t blocks = (count + kElementwiseThreads - 1) / kElementwiseThreads;
  return static_cast<unsigned int>(blocks < 1 ? 1 : (blocks > kMaxBlocks ? kMaxBlocks : blocks));
}

}  // namespace thaw::cuda
