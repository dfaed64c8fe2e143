#pragma once
// The GPU twin of kernels/cpu/fold_bn.h: a frozen batch norm folded into its convolution's weights
// and a bias (the same float and double operations, so the same bits), and the fused bias + ReLU
// pass that follows the folded convolution (engine/gpu/op_fusions.h).
#include <cstdint>

#include "kernels/cuda/storage.h"

namespace thaw::cuda {

class Context;

void fold_batchnorm(Context& ctx, int64_t c_out, int64_t per_out, double eps, const float* w, const float* gamma,
                    const float* beta, const float* mean, const float* var, float* w_out, float* b_out);

// y = max(0, y + b[c]) in place over [n, c, hw], samples `sample_stride` elements apart (0:
// packed, c x hw); S: float or bf16 (kernels/cuda/storage.h).
template <typename S>
void bias_relu(Context& ctx, int64_t n, int64_t c, int64_t hw, const float* b, S* y, int64_t sample_stride = 0);

}  // namespace thaw::cuda
