#pragma once
// Inverted dropout: kept elements are scaled by 1/(1-p). The keep mask comes from the engine's
// counter-based generator, so the op itself holds no randomness.
#include <cstdint>

namespace thaw::cpu {

template <typename T> void dropout_forward(int64_t count, double p, const uint8_t* keep, const T* x, T* y);
template <typename T> void dropout_backward(int64_t count, double p, const uint8_t* keep, const T* dy, T* dx);

}  // namespace thaw::cpu
