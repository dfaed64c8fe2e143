#pragma once
// The element types activations and gradients are stored in on the GPU: float, or bf16 under the
// bf16 rule (engine/model/mixed_precision.h). Kernels read every element into fp32, compute in
// fp32 and round once when they store (round to nearest even, as core/bf16.h does on the CPU), so
// that the CPU twin's rounding points are the kernels' stores.
#include <cuda_bf16.h>

namespace thaw::cuda {

using bf16 = __nv_bfloat16;

#ifdef __CUDACC__
__device__ __forceinline__ float ld(float v) { return v; }
__device__ __forceinline__ float ld(bf16 v) { return __bfloat162float(v); }

template <typename S>
__device__ __forceinline__ S st(float v);
template <>
__device__ __forceinline__ float st<float>(float v) {
  return v;
}
template <>
__device__ __forceinline__ bf16 st<bf16>(float v) {
  return __float2bfloat16_rn(v);
}
#endif

}  // namespace thaw::cuda

// Explicit instantiations of a kernel family's host functions for both storage types.
#define THAW_FOR_STORAGE_TYPES(MACRO) \
  MACRO(float)                        \
  MACRO(::thaw::cuda::bf16)
