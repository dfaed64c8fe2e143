#pragma once
#include <cstdint>

namespace thaw::cpu {

template <typename T> void relu_forward(int64_t count, const T* x, T* y);  // y may alias x
// Uses the forward OUTPUT y (dx += dy where y > 0), so the input need not be kept.
template <typename T> void relu_backward(int64_t count, const T* y, const T* dy, T* dx);

}  // namespace thaw::cpu
