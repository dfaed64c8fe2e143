#pragma once
// Global average pool [n, c, hw] -> [n, c], the twin of the CPU one in kernels/cpu/pool.h. Each
// output is one thread's sum in double over its hw values in order, so the bits are fixed.
#include <cstdint>

namespace thaw::cuda {

class Context;

void global_avgpool_forward(Context& ctx, int64_t n, int64_t c, int64_t hw, const float* x, float* y);
// dx += float(dy / hw), broadcast over each plane.
void global_avgpool_backward(Context& ctx, int64_t n, int64_t c, int64_t hw, const float* dy, float* dx);

}  // namespace thaw::cuda
