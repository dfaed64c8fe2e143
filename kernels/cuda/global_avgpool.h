#pragma once
// Global average pool [n, c, hw] -> [n, c], the twin of the CPU one in kernels/cpu/pool.h. Each
// output is one thread's sum in double over its hw values in order, so the bits are fixed.
#include <cstdint>

#include "kernels/cuda/layout.h"
#include "kernels/cuda/storage.h"

namespace thaw::cuda {

class Context;

// S: float or bf16 (kernels/cuda/storage.h; bf16 results are the float result rounded once more).
// `layout` (kernels/cuda/layout.h): how x and dx are stored; y and dy are [n, c] either way.
template <typename S>
void global_avgpool_forward(Context& ctx, int64_t n, int64_t c, int64_t hw, const S* x, S* y,
                            Layout layout = Layout::nchw);
// dx += float(dy / hw), broadcast over each plane.
template <typename S>
void global_avgpool_backward(Context& ctx, int64_t n, int64_t c, int64_t hw, const S* dy, S* dx,
                             Layout layout = Layout::nchw);

}  // namespace thaw::cuda
