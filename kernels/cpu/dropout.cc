#include "kernels/cpu/dropout.h"

#include "core/error.h"

namespace thaw::cpu {

namespace {
// p = 1 drops everything; PyTorch then returns zeros rather than 0 * inf.
template <typename T>
T keep_scale(double p) {
  THAW_CHECK(p >= 0.0 && p <= 1.0, "dropout probability must lie in [0, 1], got ", p);
  return p < 1.0 ? static_cast<T>(1.0 / (1.0 - p)) : T{0};
}
}  // namespace

template <typename T>
void dropout_forward(int64_t count, double p, const uint8_t* keep, const T* x, T* y) {
  const T s = keep_scale<T>(p);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < count; ++i) y[i] = keep[i] ? x[i] * s : T{0};
}

template <typename T>
void dropout_backward(int64_t count, double p, const uint8_t* keep, const T* dy, T* dx) {
  const T s = keep_scale<T>(p);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < count; ++i) dx[i] += keep[i] ? dy[i] * s : T{0};
}

template void dropout_forward<float>(int64_t, double, const uint8_t*, const float*, float*);
template void dropout_forward<double>(int64_t, double, const uint8_t*, const double*, double*);
template void dropout_backward<float>(int64_t, double, const uint8_t*, const float*, float*);
template void dropout_backward<double>(int64_t, double, const uint8_t*, const double*, double*);

}  // namespace thaw::cpu
