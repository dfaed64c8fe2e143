#pragma once
// Inverted dropout with a given keep mask (one byte per element, from the engine's counter-based
// generator): the twin of kernels/cpu/dropout.h. Kept elements are scaled by float(1/(1-p));
// p = 1 gives zeros.
#include <cstdint>

#include "kernels/cuda/storage.h"

namespace thaw::cuda {

class Context;

// S: float or bf16 (kernels/cuda/storage.h).
template <typename S>
void dropout_forward(Context& ctx, int64_t count, double p, const uint8_t* keep, const S* x, S* y);
// Accumulates into dx.
template <typename S>
void dropout_backward(Context& ctx, int64_t count, double p, const uint8_t* keep, const S* dy, S* dx);

}  // namespace thaw::cuda
