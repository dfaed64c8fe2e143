#pragma once
// The trainable span of a CudaExecutor cut into runs of consecutive tensors that share a weight-
// decay flag (decay on conv and linear weights only, timm's default, as train() sets it on the
// CPU), so that a device optimizer launches one kernel per run instead of one per tensor.
//
// Only built with CUDA (THAW_HAVE_CUDA).
#if THAW_HAVE_CUDA

#include <cstdint>
#include <vector>

#include "engine/cuda_executor.h"

namespace thaw {

struct DecayRange {
  int64_t begin, count;  // in floats, inside the trainable span
  bool decay;
};

// Each tensor's range runs to the next one's start, so the zero gaps between tensors are covered
// too (they stay zero under SGD and AdamW: a zero value, gradient and state give a zero update).
// Without weight decay every range has decay false.
std::vector<DecayRange> decay_ranges(const CudaExecutor& exec, bool any_decay);

}  // namespace thaw

#endif  // THAW_HAVE_CUDA
