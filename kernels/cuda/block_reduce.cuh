#pragma once
// A fixed-tree block sum: every thread contributes one partial, thread t's partial is combined
// with thread t + s for s = blockDim/2, blockDim/4, ..., 1. The order depends only on the block
// size (kReduceThreads), never on timing, so the result is the same bits on every run.
#include "kernels/cuda/launch.h"

namespace thaw::cuda {

// `shared` holds kReduceThreads values. Returns the total to every thread of the block.
template <typename T>
__device__ T block_sum(T partial, T* shared) {
  const int t = threadIdx.x;
  shared[t] = partial;
  __syncthreads();
  for (int s = kReduceThreads / 2; s > 0; s /= 2) {
    if (t < s) shared[t] = shared[t] + shared[t + s];
    __syncthreads();
  }
  const T total = shared[0];
  __syncthreads();  // the caller may reuse `shared` at once
  return total;
}

}  // namespace thaw::cuda
