#include "kernels/cpu/linear.h"

#include "kernels/cpu/eigen_maps.h"

namespace thaw::cpu {

// One single-threaded GEMM per product (EIGEN_DONT_PARALLELIZE): its blocking, and so its bits,
// depend only on the shapes. The classifier is small next to the convolutions.
template <typename T>
void linear_forward(const LinearGeom& g, const T* x, const T* w, const T* b, T* y) {
  MutMap<T> ym(y, g.n, g.out);
  ym.noalias() = ConstMap<T>(x, g.n, g.in) * ConstMap<T>(w, g.out, g.in).transpose();
  for (int64_t i = 0; i < g.n; ++i) {
    for (int64_t o = 0; o < g.out; ++o) ym(i, o) += b[o];
  }
}

template <typename T>
void linear_backward(const LinearGeom& g, const T* x, const T* w, const T* dy, T* dx, T* dw, T* db) {
  const ConstMap<T> dym(dy, g.n, g.out);
  if (dx) MutMap<T>(dx, g.n, g.in).noalias() += dym * ConstMap<T>(w, g.out, g.in);
  MutMap<T>(dw, g.out, g.in).noalias() += dym.transpose() * ConstMap<T>(x, g.n, g.in);
  for (int64_t o = 0; o < g.out; ++o) {
    double s = 0;
    for (int64_t i = 0; i < g.n; ++i) s += dy[i * g.out + o];
    db[o] += static_cast<T>(s);
  }
}

template void linear_forward<float>(const LinearGeom&, const float*, const float*, const float*, float*);
template void linear_forward<double>(const LinearGeom&, const double*, const double*, const double*, double*);
template void linear_backward<float>(const LinearGeom&, const float*, const float*, const float*, float*,
                                     float*, float*);
template void linear_backward<double>(const LinearGeom&, const double*, const double*, const double*, double*,
                                      double*, double*);

}  // namespace thaw::cpu
