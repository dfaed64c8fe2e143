#pragma once
// Bilinear resizing with PyTorch's F.interpolate(mode="bilinear", align_corners=False,
// antialias=False) sampling: output pixel d reads source coordinate (d + 0.5) * in / out - 0.5,
// clamped below at 0, and blends its two neighbours (the upper one clamped to the last pixel).
// Images are planar: `channels` planes of h x w, row-major (CHW). Taps and weights are computed
// as PyTorch's CPU kernel does (coordinate in double, weights in float), the blend in float in a
// fixed order: results match torch to within 2 ulp and are the same on every run and thread count.
#include <cstdint>
#include <span>

#include "core/tensor.h"
#include "io/idx.h"

namespace thaw {

void resize_bilinear(const float* src, int64_t channels, int64_t src_h, int64_t src_w, float* dst, int64_t dst_h,
                     int64_t dst_w);
// uint8 input, float output (values stay in 0..255, unrounded).
void resize_bilinear(const uint8_t* src, int64_t channels, int64_t src_h, int64_t src_w, float* dst, int64_t dst_h,
                     int64_t dst_w);
// uint8 input and output, rounded to nearest (halves away from zero).
void resize_bilinear(const uint8_t* src, int64_t channels, int64_t src_h, int64_t src_w, uint8_t* dst, int64_t dst_h,
                     int64_t dst_w);

// One grey h x w image to float [3, size, size], computed as PyTorch would
//   x = u8.float() / 255; x = F.interpolate(x, (size, size), mode="bilinear", align_corners=False)
//   x = (x - 0.5) / 0.5; x = x.expand(3, ...)
// so a peer script can reproduce the inputs bit for bit.
void grey_to_normalised_chw(const uint8_t* grey, int64_t h, int64_t w, int64_t size, float* chw);

// The images `indices` of an IDX set as float [indices.size(), 3, size, size], each as above.
Tensor<float> idx_batch_to_nchw(const IdxImages& images, std::span<const int64_t> indices, int64_t size);

}  // namespace thaw
