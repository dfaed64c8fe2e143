#pragma once
// ReLU on device pointers, the twin of kernels/cpu/relu.h (same semantics, same results bit for
// bit: selection and one addition per element).
#include <cstdint>

namespace thaw::cuda {

class Context;

void relu_forward(Context& ctx, int64_t count, const float* x, float* y);  // y may alias x
// dx += dy where the forward OUTPUT y > 0.
void relu_backward(Context& ctx, int64_t count, const float* y, const float* dy, float* dx);

}  // namespace thaw::cuda
