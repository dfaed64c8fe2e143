#pragma once
// Channel concatenation of NCHW tensors sharing n, h, w: the twin of kernels/cpu/concat.h.
// Forward is one strided copy per input; backward adds each channel slice of dy to its input's
// gradient. Both are exact.
#include <cstdint>
#include <vector>

#include "kernels/cuda/layout.h"
#include "kernels/cuda/storage.h"

namespace thaw::cuda {

class Context;

template <typename T> struct ChannelSlice {
  T* ptr;     // device tensor [n, c, hw]
  int64_t c;  // its channel count
};

// S: float or bf16 (kernels/cuda/storage.h).
// A null ptr: that input is in its slice already (engine/gpu/op_fusions.h concat_slots).
template <typename S>
void concat_forward(Context& ctx, int64_t n, int64_t hw, const std::vector<ChannelSlice<const S>>& inputs, S* y);
// dx_i += the matching channel slice of dy; a null ptr skips that input. `layout`
// (kernels/cuda/layout.h): dy and every dx NCHW, or all channels-last (the forward's channels-last
// twin is kernels/cuda/channels_last.h concat_forward_nhwc).
template <typename S>
void concat_backward(Context& ctx, int64_t n, int64_t hw, const S* dy, const std::vector<ChannelSlice<S>>& dinputs,
                     Layout layout = Layout::nchw);

}  // namespace thaw::cuda
