#pragma once
// The gradients of float convolutions on tiny maps (at most kGroupedMaxPositions output positions
// per sample: the 3x3 and 1x1 maps of Inception-B and -C at 75 px): several samples side by side in
// one product (kernels/cpu/gemm.h) instead of one thin product per sample, whose weight packing
// costs as much as its arithmetic, or a rank-one update of dW per sample. Measured on 2 cores at
// batch 32 against the per-sample path: data gradient 1.5 to 2.6x, weight gradient 1.0 to 7x faster
// on those maps; on larger maps, and for every forward, the per-sample Eigen path was as fast or
// faster, so they keep it (and the forward keeps its bits). The product's elements have the same
// bits however many samples share it, so a sample's input gradient never depends on the batch; the
// work items are cut by the shape alone, so nothing depends on the threads. Which path a
// convolution takes depends on its geometry without the batch size.
#include <cstdint>

#include "kernels/geometry.h"

namespace thaw::cpu {

inline constexpr int64_t kGroupedMaxPositions = 16;

inline bool conv_is_grouped(const ConvGeom& g) { return g.h_out() * g.w_out() <= kGroupedMaxPositions; }

void grouped_conv_backward_data(const ConvGeom& g, const float* dy, const float* w, float* dx);
void grouped_conv_backward_weight(const ConvGeom& g, const float* x, const float* dy, float* dw);

}  // namespace thaw::cpu
