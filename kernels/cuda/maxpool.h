#pragma once
// Max pool over NCHW or channels-last tensors, the twin of the CPU maxpool in kernels/cpu/pool.h: the window is
// scanned row by row, the first maximum wins, padded cells never win, and the winner's flat index
// h*w_in + w inside its (n, c) plane is recorded. Backward is a gather, not a scatter: each input
// element adds, in output raster order, the dy of every window whose argmax chose it. No atomics,
// so the bits never depend on timing (cuDNN's max-pool backward is non-deterministic and unused).
#include <cstdint>

#include "kernels/cuda/layout.h"
#include "kernels/cuda/storage.h"
#include "kernels/geometry.h"

namespace thaw::cuda {

class Context;

// S: float or bf16 (kernels/cuda/storage.h). `layout` (kernels/cuda/layout.h): x, y, argmax and
// their gradients NCHW or channels-last; the argmax holds the in-plane index either way. A null
// argmax: none kept (a frozen pool, whose gradient is never taken).
template <typename S>
void maxpool_forward(Context& ctx, const PoolGeom& g, const S* x, S* y, int32_t* argmax,
                     Layout layout = Layout::nchw);
// Accumulates into dx.
template <typename S>
void maxpool_backward(Context& ctx, const PoolGeom& g, const S* dy, const int32_t* argmax, S* dx,
                      Layout layout = Layout::nchw);

}  // namespace thaw::cuda
