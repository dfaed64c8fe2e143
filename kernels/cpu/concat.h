#pragma once
// Channel concatenation of NCHW tensors that share n, h, w.
#include <cstdint>
#include <vector>

namespace thaw::cpu {

template <typename T> struct ChannelSlice {
  T* ptr;         // tensor [n, c, hw]
  int64_t c;
};

// A null ptr: that input's slice of y is already written (its producer wrote it in place).
template <typename T>
void concat_forward(int64_t n, int64_t hw, const std::vector<ChannelSlice<const T>>& inputs, T* y);
// dx_i += the matching channel slice of dy; a null ptr skips that input.
template <typename T>
void concat_backward(int64_t n, int64_t hw, const T* dy, const std::vector<ChannelSlice<T>>& dinputs);

}  // namespace thaw::cpu
