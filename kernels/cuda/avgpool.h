#pragma once
// Average pool over NCHW fp32, the twin of the CPU avgpool in kernels/cpu/pool.h, with the same
// divisor rule (PoolGeom::count_pad). Sums are in double in the CPU twin's (separable) order;
// backward is a gather: each input element adds the dy/count of every window containing it.
#include "kernels/geometry.h"

namespace thaw::cuda {

class Context;

void avgpool_forward(Context& ctx, const PoolGeom& g, const float* x, float* y);
// Accumulates into dx.
void avgpool_backward(Context& ctx, const PoolGeom& g, const float* dy, float* dx);

}  // namespace thaw::cuda
