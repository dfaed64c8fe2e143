#pragma once
// How the batch-norm kernels (kernels/cuda/batchnorm.cu) cut a channel's n * hw values of an NCHW
// or channels-last tensor into runs that blocks sum in parallel: `chunks` runs of `chunk`
// consecutive (sample, position) indices, a number fixed by the shape alone (so the summation
// order, and the bits, never depend on the GPU or on the layout). Plain code for the host and the
// device, so the cut is tested on the CPU.
#include <algorithm>
#include <cstdint>

#include "core/philox_core.h"  // THAW_HOST_DEVICE

namespace thaw::cuda {

struct ChannelChunks {
  // Values per block (about 128 per thread of 256), and the most blocks per channel.
  static constexpr int64_t kChunkValues = 32768;
  static constexpr int64_t kMaxChunks = 1024;

  int64_t n = 1, c = 1, hw = 1, chunks = 1, chunk = 1;
  bool nhwc = false;  // the tensor is channels-last ([n, hw, c])

  static ChannelChunks of(int64_t n, int64_t c, int64_t hw, bool nhwc = false) {
    const int64_t m = n * hw;
    const int64_t k = std::clamp<int64_t>((m + kChunkValues - 1) / kChunkValues, 1, kMaxChunks);
    return {n, c, hw, k, (m + k - 1) / k, nhwc};
  }
  THAW_HOST_DEVICE int64_t values() const { return n * hw; }
  // Index into the tensor of the channel's m-th value (sample m / hw, position m % hw).
  THAW_HOST_DEVICE int64_t at(int64_t ch, int64_t m) const {
    if (nhwc) return m * c + ch;
    const int64_t s = m / hw;
    return (s * c + ch) * hw + (m - s * hw);
  }
  // The channel of the tensor's element i.
  THAW_HOST_DEVICE int64_t channel_of(int64_t i) const { return nhwc ? i % c : (i / hw) % c; }
  // Run k covers the channel's values [begin(k), end(k)).
  THAW_HOST_DEVICE int64_t begin(int64_t k) const { return k * chunk < values() ? k * chunk : values(); }
  THAW_HOST_DEVICE int64_t end(int64_t k) const { return (k + 1) * chunk < values() ? (k + 1) * chunk : values(); }
};

}  // namespace thaw::cuda
