#include "kernels/cpu/fold_bn.h"

#include <cmath>

namespace thaw::cpu {

void fold_batchnorm(int64_t c_out, int64_t per_out, double eps, const float* w, const float* gamma,
                    const float* beta, const float* mean, const float* var, float* w_out, float* b_out) {
  for (int64_t k = 0; k < c_out; ++k) {
    const double invstd = 1.0 / std::sqrt(static_cast<double>(var[k]) + eps);
    const auto a = static_cast<float>(static_cast<double>(gamma[k]) * invstd);
    for (int64_t j = 0; j < per_out; ++j) w_out[k * per_out + j] = w[k * per_out + j] * a;
    b_out[k] = static_cast<float>(static_cast<double>(beta[k]) - static_cast<double>(mean[k]) * static_cast<double>(a));
  }
}

void bias_relu(int64_t n, int64_t c, int64_t hw, const float* b, float* y) {
  for (int64_t s = 0; s < n; ++s) {
    for (int64_t k = 0; k < c; ++k) {
      float* p = y + (s * c + k) * hw;
      for (int64_t i = 0; i < hw; ++i) {
        const float v = p[i] + b[k];
        p[i] = v > 0.0f ? v : 0.0f;
      }
    }
  }
}

}  // namespace thaw::cpu
