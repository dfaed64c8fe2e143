#include "kernels/cpu/relu.h"

namespace thaw::cpu {

template <typename T>
void relu_forward(int64_t count, const T* x, T* y) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < count; ++i) y[i] = x[i] > T{0} ? x[i] : T{0};
}

template <typename T>
void relu_backward(int64_t count, const T* y, const T* dy, T* dx) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < count; ++i) dx[i] += y[i] > T{0} ? dy[i] : T{0};
}

template void relu_forward<float>(int64_t, const float*, float*);
template void relu_forward<double>(int64_t, const double*, double*);
template void relu_backward<float>(int64_t, const float*, const float*, float*);
template void relu_backward<double>(int64_t, const double*, const double*, double*);

}  // namespace thaw::cpu
