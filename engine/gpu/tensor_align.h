#pragma once
#include <cstdint>

namespace thaw {

// Tensor starts inside the GPU executor's value, gradient and folded-weight allocations, and the
// batch shards in its upload buffer: 64 floats = 256 bytes, the alignment cuDNN and cuBLASLt are
// given for every operand (and what cudaMalloc gives a buffer's start).
inline constexpr int64_t kTensorAlign = 64;

inline int64_t align_floats(int64_t v) { return (v + kTensorAlign - 1) / kTensorAlign * kTensorAlign; }

}  // namespace thaw
