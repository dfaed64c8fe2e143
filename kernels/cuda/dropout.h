#pragma once
// Inverted dropout with a given keep mask (one byte per element, from the engine's counter-based
// generator): the twin of kernels/cpu/dropout.h. Kept elements are scaled by float(1/(1-p));
// p = 1 gives zeros.
#include <cstdint>

namespace thaw::cuda {

class Context;

void dropout_forward(Context& ctx, int64_t count, double p, const uint8_t* keep, const float* x, float* y);
// Accumulates into dx.
void dropout_backward(Context& ctx, int64_t count, double p, const uint8_t* keep, const float* dy, float* dx);

}  // namespace thaw::cuda
