#pragma once
// Max pooling of one output row, eight outputs at a time (AVX2), for the windows that lie wholly
// inside the input: the same comparisons in the same window order as the scalar loop (strictly
// greater, ordered: the first maximum wins, NaN never displaces a value), so the same values and
// the same argmax. Strides 1 and 2 (every max pool of Inception v3 and v4); others do nothing.
#include <cstdint>

#include "kernels/geometry.h"

namespace thaw::cpu {

// Outputs [ow0, ow0 + done) of row oh, for the largest `done` (a multiple of 8, at most `count`)
// whose windows and vector reads stay inside the plane's rows; returns done. The caller checked
// that row oh's windows lie inside the input's rows and that output ow0's window starts at a
// column >= 0.
int64_t maxpool_row_simd(const PoolGeom& g, const float* plane, int64_t oh, int64_t ow0, int64_t count, float* y,
                         int32_t* argmax);

}  // namespace thaw::cpu
