#pragma once
// What channels-last (NHWC) storage needs beyond the layout-aware ops (pools, batch norm,
// concatenation, global pool: kernels/cuda/layout.h): the transposes in and out of it, the folded
// groups' bias + ReLU, and the filters' [k, r, s, c] layout. The layout changes, never the
// arithmetic: bias + ReLU computes its NCHW kernel's value, the transposes copy bits, so a
// channels-last network differs from the NCHW one only where cuDNN's convolution engines do.
// Every tensor here is [n, h, w, c] with c fastest unless named NCHW.
#include <cstdint>

#include "kernels/cuda/layout.h"
#include "kernels/cuda/storage.h"

namespace thaw::cuda {

class Context;

// The image into the front: x NCHW fp32 [n, c, hw] -> y NHWC S (rounded once under bf16).
// c_stored > c: y holds c_stored channels per pixel, those past c zero (a channels-last image's
// channels padded to pixel_channels (kernels/cuda/layout.h) for the tensor-core engines); 0: c.
template <typename S>
void nchw_to_nhwc(Context& ctx, int64_t n, int64_t c, int64_t hw, const float* x, S* y, int64_t c_stored = 0);

// The front's last output back to NCHW for the nodes after it: x NHWC -> y NCHW, bits kept.
template <typename S>
void nhwc_to_nchw(Context& ctx, int64_t n, int64_t c, int64_t hw, const S* x, S* y);
// A folded group's bias + ReLU over `pixels` pixels of c channels, pixels `pixel_stride` elements
// apart (0: c, packed; more: a slice of a concatenation's channels).
template <typename S>
void bias_relu_nhwc(Context& ctx, int64_t pixels, int64_t c, const float* b, S* y, int64_t pixel_stride = 0);
// Convolution weights [k, c, r, s] -> [k, r, s, c], the filter layout of an NHWC convolution
// (c_stored as nchw_to_nhwc: zero filter taps for an image's padding channels).
void kcrs_to_krsc(Context& ctx, int64_t k, int64_t c, int64_t rs, const float* w, float* out, int64_t c_stored = 0);
// A channels-last convolution's weight gradient [k, r, s, c_stored] back into the masters'
// [k, c, r, s] (the padding channels' gradients dropped), in fp32 (exact: a bf16 value widened).
template <typename S>
void krsc_to_kcrs(Context& ctx, int64_t k, int64_t c, int64_t rs, const S* dw, float* out, int64_t c_stored = 0);

}  // namespace thaw::cuda
