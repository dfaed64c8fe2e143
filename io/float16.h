#pragma once
// IEEE binary16 and bfloat16 <-> float, bit-exact: widening is exact, narrowing rounds to nearest
// even (as PyTorch's .half() and .bfloat16() do), NaN stays NaN.
#include <cstdint>

namespace thaw {

float half_to_float(uint16_t h);
uint16_t float_to_half(float f);
float bf16_to_float(uint16_t b);
uint16_t float_to_bf16(float f);

}  // namespace thaw
