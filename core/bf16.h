#pragma once
// bfloat16 as the GPU stores it: the upper 16 bits of an IEEE float, rounded to nearest with ties
// to even (CUDA's __float2bfloat16_rn). Kept here as floats whose low 16 bits are zero, so that the
// CPU can run the bf16 rounding rule (engine/model/mixed_precision.h) in fp32 arithmetic and give
// the bits the GPU's conversions give.
#include <bit>
#include <cstdint>

namespace thaw {

inline float round_to_bf16(float v) {
  uint32_t u = std::bit_cast<uint32_t>(v);
  if ((u & 0x7f800000u) == 0x7f800000u && (u & 0x007fffffu) != 0) {
    // A NaN stays a NaN (quiet, sign kept): rounding its payload could carry into infinity.
    return std::bit_cast<float>((u | 0x00400000u) & 0xffff0000u);
  }
  // Round half to even on bit 16; a carry into the exponent gives the next binade or infinity,
  // as the hardware conversion does.
  u += 0x7fffu + ((u >> 16) & 1u);
  return std::bit_cast<float>(u & 0xffff0000u);
}

inline bool is_bf16(float v) { return (std::bit_cast<uint32_t>(v) & 0xffffu) == 0; }

inline void round_to_bf16(float* p, int64_t n) {
  for (int64_t i = 0; i < n; ++i) p[i] = round_to_bf16(p[i]);
}

// The stored 16 bits and back, for files and for uploads of bf16 tensors.
inline uint16_t bf16_bits(float v) { return static_cast<uint16_t>(std::bit_cast<uint32_t>(round_to_bf16(v)) >> 16); }
inline float bf16_value(uint16_t bits) { return std::bit_cast<float>(static_cast<uint32_t>(bits) << 16); }

}  // namespace thaw
