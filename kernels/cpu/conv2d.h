#pragma once
// Convolution without bias, NCHW x OIHW -> NCHW. Backward functions ACCUMULATE (+=) into their
// outputs; the caller zeroes gradient buffers once per step. Summation order is fixed and does not
// depend on the number of threads.
#include "kernels/geometry.h"

namespace thaw::cpu {

template <typename T> void conv2d_forward(const ConvGeom& g, const T* x, const T* w, T* y);
template <typename T> void conv2d_backward_data(const ConvGeom& g, const T* dy, const T* w, T* dx);
template <typename T> void conv2d_backward_weight(const ConvGeom& g, const T* x, const T* dy, T* dw);

}  // namespace thaw::cpu
