#pragma once
// Channel concatenation of NCHW fp32 tensors sharing n, h, w: the twin of kernels/cpu/concat.h.
// Forward is one strided copy per input; backward adds each channel slice of dy to its input's
// gradient. Both are exact.
#include <cstdint>
#include <vector>

namespace thaw::cuda {

class Context;

template <typename T> struct ChannelSlice {
  T* ptr;     // device tensor [n, c, hw]
  int64_t c;  // its channel count
};

void concat_forward(Context& ctx, int64_t n, int64_t hw, const std::vector<ChannelSlice<const float>>& inputs,
                    float* y);
// dx_i += the matching channel slice of dy; a null ptr skips that input.
void concat_backward(Context& ctx, int64_t n, int64_t hw, const float* dy,
                     const std::vector<ChannelSlice<float>>& dinputs);

}  // namespace thaw::cuda
