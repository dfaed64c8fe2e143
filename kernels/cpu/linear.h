#pragma once
// y[n, out] = x[n, in] * W[out, in]^T + b[out]. Backward ACCUMULATES; dx may be null.
#include "kernels/geometry.h"

namespace thaw::cpu {

template <typename T> void linear_forward(const LinearGeom& g, const T* x, const T* w, const T* b, T* y);
template <typename T>
void linear_backward(const LinearGeom& g, const T* x, const T* w, const T* dy, T* dx, T* dw, T* db);

}  // namespace thaw::cpu
