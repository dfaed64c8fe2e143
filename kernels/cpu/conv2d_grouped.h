#pragma once
// The float convolutions of small maps (fewer than kGroupedMaxPositions output positions per
// sample: 17x17 and below at 75 px, 8x8 and below at 299): several samples side by side in one
// product (kernels/cpu/gemm.h), instead of one thin product per sample whose weight packing costs
// as much as its arithmetic. The product's elements have the same bits however many samples share
// it, so a sample's output, and the feature cache, never depend on the batch; the work items (sample
// groups x blocks of channels) are cut by the shape alone, so neither do they depend on the threads.
// Which path a convolution takes depends on its geometry without the batch size.
#include <cstdint>

#include "kernels/geometry.h"

namespace thaw::cpu {

inline constexpr int64_t kGroupedMaxPositions = 256;

inline bool conv_is_grouped(const ConvGeom& g) { return g.h_out() * g.w_out() < kGroupedMaxPositions; }

void grouped_conv_forward(const ConvGeom& g, const float* x, const float* w, float* y);
void grouped_conv_backward_data(const ConvGeom& g, const float* dy, const float* w, float* dx);
void grouped_conv_backward_weight(const ConvGeom& g, const float* x, const float* dy, float* dw);

}  // namespace thaw::cpu
