#pragma once
// Resampling an RGB image region to a new size with an antialiased bilinear filter: the triangle
// filter of bilinear interpolation, widened by the reduction factor when downscaling so that every
// source pixel contributes (as PIL's BILINEAR and torchvision's antialias=True do); when upscaling
// it is plain bilinear interpolation with pixel centres at +0.5. Separable: a horizontal pass over
// the source rows the output needs, then a vertical pass, each summing its taps in a fixed order in
// float, so the result is the same on every run and thread count.
#include <cstdint>

#include "io/image.h"

namespace thaw {

// A region of the source in pixel coordinates, [x0, x1) x [y0, y1); fractional edges are allowed.
// Taps near the region's border read the pixels just outside it (clamped to the image), so
// resampling a box equals resizing the whole image and cropping it.
struct Box {
  double x0 = 0, y0 = 0, x1 = 0, y1 = 0;
};

// How the resampled image is laid down: mirrored left-right, then top-bottom, then turned by
// `turns` quarter turns counter-clockwise (out(x, y) = in(size - 1 - y, x) per turn). Only a
// permutation of where each value is stored: the values are those of the upright resample.
struct Orientation {
  bool hflip = false, vflip = false;
  int turns = 0;  // 0..3; non-zero needs a square output
};

// Writes 3 planes of out_h x out_w floats (CHW) with values in [0, 255], unrounded.
void resample_rgb(const Image& src, const Box& box, int64_t out_w, int64_t out_h, float* chw,
                  const Orientation& orientation = {});

}  // namespace thaw
