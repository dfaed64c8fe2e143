#pragma once
// Max pool (records the winning input index per output, first maximum in window order wins) and
// average pool (padded cells in the divisor or not: PoolGeom::count_pad). Backward ACCUMULATES.
#include <cstdint>

#include "kernels/geometry.h"

namespace thaw::cpu {

// argmax: per output element, the flat index h*w_in+w of the winner inside its (n, c) plane.
template <typename T> void maxpool_forward(const PoolGeom& g, const T* x, T* y, int32_t* argmax);
template <typename T> void maxpool_backward(const PoolGeom& g, const T* dy, const int32_t* argmax, T* dx);
template <typename T> void avgpool_forward(const PoolGeom& g, const T* x, T* y);
template <typename T> void avgpool_backward(const PoolGeom& g, const T* dy, T* dx);

// Global average pool: [n, c, hw] -> [n, c].
template <typename T> void global_avgpool_forward(int64_t n, int64_t c, int64_t hw, const T* x, T* y);
template <typename T> void global_avgpool_backward(int64_t n, int64_t c, int64_t hw, const T* dy, T* dx);

}  // namespace thaw::cpu
