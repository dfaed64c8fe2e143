#pragma once
// How an activation's n * c planes of hw positions sit in memory: NCHW (a plane's positions
// together) or channels-last NHWC (a position's channels together). The pooling, batch-norm,
// global-pool and concatenation kernels take one of these and keep their arithmetic: a thread
// still computes one output element the same way, only the addresses change, so an NHWC op gives
// the NCHW op's bits. Threads walk the storage order (`plane_of` / `pos_of` of a storage index) so
// that neighbouring threads touch neighbouring addresses in either layout. Plain code for the host
// and the device, so the index arithmetic is tested on the CPU.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/philox_core.h"  // THAW_HOST_DEVICE

namespace thaw::cuda {

enum class Layout : uint8_t { nchw, nhwc };

// The channels a channels-last convolution's input pixel holds when its tensor has c: c rounded up
// to a multiple of 8 (16 bytes of bf16; cuDNN's tensor-core engines read whole 16-byte vectors).
// Only the image's 3 channels change (to 8); every other Inception tensor already has a multiple.
constexpr int64_t pixel_channels(int64_t c) { return (c + 7) / 8 * 8; }

struct Planes {
  int64_t c = 1, hw = 1;  // channels per sample, positions per plane
  bool nhwc = false;

  static Planes of(int64_t c, int64_t hw, Layout layout) { return {c, hw, layout == Layout::nhwc}; }
  // Storage index of position `pos` of plane `plane` (plane = sample * c + channel).
  THAW_HOST_DEVICE int64_t at(int64_t plane, int64_t pos) const {
    return nhwc ? ((plane / c) * hw + pos) * c + plane % c : plane * hw + pos;
  }
  // The plane and position stored at index e.
  THAW_HOST_DEVICE int64_t plane_of(int64_t e) const { return nhwc ? (e / (c * hw)) * c + e % c : e / hw; }
  THAW_HOST_DEVICE int64_t pos_of(int64_t e) const { return nhwc ? (e / c) % hw : e % hw; }
  THAW_HOST_DEVICE int64_t channel_of(int64_t e) const { return nhwc ? e % c : (e / hw) % c; }
};

// On the host: x [n, a, b] -> [n, b, a]. NCHW -> NHWC with (a, b) = (c, hw), and back with (hw, c).
template <typename T>
std::vector<T> swap_inner_axes(const std::vector<T>& x, int64_t n, int64_t a, int64_t b) {
  std::vector<T> y(x.size());
  for (int64_t s = 0; s < n; ++s) {
    for (int64_t i = 0; i < a; ++i) {
      for (int64_t j = 0; j < b; ++j) {
        y[static_cast<std::size_t>((s * b + j) * a + i)] = x[static_cast<std::size_t>((s * a + i) * b + j)];
      }
    }
  }
  return y;
}

}  // namespace thaw::cuda
