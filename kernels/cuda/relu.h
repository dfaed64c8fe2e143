#pragma once
// ReLU on device pointers, the twin of kernels/cpu/relu.h (same semantics, same results bit for
// bit: selection and one addition per element).
#include <cstdint>

#include "kernels/cuda/storage.h"

namespace thaw::cuda {

class Context;

// S: float or bf16 (kernels/cuda/storage.h), computed in fp32 and rounded once per store.
template <typename S>
void relu_forward(Context& ctx, int64_t count, const S* x, S* y);  // y may alias x
// dx += dy where the forward OUTPUT y > 0.
template <typename S>
void relu_backward(Context& ctx, int64_t count, const S* y, const S* dy, S* dx);

}  // namespace thaw::cuda
