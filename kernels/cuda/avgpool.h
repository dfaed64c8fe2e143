#pragma once
// Average pool over NCHW or channels-last tensors, the twin of the CPU avgpool in kernels/cpu/pool.h, with the same
// divisor rule (PoolGeom::count_pad). Sums are in double in the CPU twin's (separable) order;
// backward is a gather: each input element adds the dy/count of every window containing it.
#include "kernels/cuda/layout.h"
#include "kernels/cuda/storage.h"
#include "kernels/geometry.h"

namespace thaw::cuda {

class Context;

// S: float or bf16 (kernels/cuda/storage.h). `layout` (kernels/cuda/layout.h): NCHW or
// channels-last, the same arithmetic either way.
template <typename S>
void avgpool_forward(Context& ctx, const PoolGeom& g, const S* x, S* y, Layout layout = Layout::nchw);
// Accumulates into dx.
template <typename S>
void avgpool_backward(Context& ctx, const PoolGeom& g, const S* dy, S* dx, Layout layout = Layout::nchw);

}  // namespace thaw::cuda
