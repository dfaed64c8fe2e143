#pragma once
// A frozen batch norm folded into the convolution before it (inference only): with
// a = float(gamma / sqrt(running_var + eps)) per output channel (batch norm's own float scale),
//   w' = w * a,   b' = float(beta - running_mean * a)   (the difference in double: exact product),
// so that relu(bn(conv(x, w))) becomes relu(conv(x, w') + b'), equal up to float rounding. The GPU
// (kernels/cuda/fold_bn.h) folds with the same operations, bit for bit.
#include <cstdint>

namespace thaw::cpu {

// w: [c_out, per_out] (OIHW flattened); gamma, beta, mean, var: [c_out].
void fold_batchnorm(int64_t c_out, int64_t per_out, double eps, const float* w, const float* gamma,
                    const float* beta, const float* mean, const float* var, float* w_out, float* b_out);

// y[s, c, p] = max(0, y[s, c, p] + b[c]) over [n, c, hw].
void bias_relu(int64_t n, int64_t c, int64_t hw, const float* b, float* y);

}  // namespace thaw::cpu
