#pragma once
// Channel concatenation of tensors sharing n, h, w, all NCHW or all channels-last: the twin of
// kernels/cpu/concat.h.
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

// S: float or bf16 (kernels/cuda/storage.h). `layout` (kernels/cuda/layout.h): every tensor NCHW,
// or every one channels-last.
// A null ptr: that input is in its slice already (engine/gpu/op_fusions.h concat_slots).
template <typename S>
void concat_forward(Context& ctx, int64_t n, int64_t hw, const std::vector<ChannelSlice<const S>>& inputs, S* y,
                    Layout layout = Layout::nchw);
// dx_i += the matching channel slice of dy; a null ptr skips that input.
template <typename S>
void concat_backward(Context& ctx, int64_t n, int64_t hw, const S* dy, const std::vector<ChannelSlice<S>>& dinputs,
                     Layout layout = Layout::nchw);

}  // namespace thaw::cuda
