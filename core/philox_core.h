#pragma once
// Philox4x32-10 and the counter layout of core/philox.h as plain inline functions that compile for
// the host and, under nvcc, for the device too: the CPU's CounterRng and the GPU's kernels (the
// dropout masks of kernels/cuda/dropout.h) compute every random number with this one code, so a
// mask made on the GPU is the CPU's mask bit for bit.
#include <cstdint>

#if defined(__CUDACC__)
#define THAW_HOST_DEVICE __host__ __device__
#else
#define THAW_HOST_DEVICE
#endif

namespace thaw::philox {

struct Block {
  uint32_t w[4];
};

THAW_HOST_DEVICE inline Block philox4x32_10(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3, uint32_t k0,
                                            uint32_t k1) {
  constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
  constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = static_cast<uint64_t>(kM0) * c0, p1 = static_cast<uint64_t>(kM1) * c2;
    const auto hi0 = static_cast<uint32_t>(p0 >> 32), lo0 = static_cast<uint32_t>(p0);
    const auto hi1 = static_cast<uint32_t>(p1 >> 32), lo1 = static_cast<uint32_t>(p1);
    const uint32_t n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
    k0 += kW0;
    k1 += kW1;
  }
  return Block{{c0, c1, c2, c3}};
}

// Block `blk` of the stream (seed, purpose, a, b): counter [blk lo32, purpose << 24 | blk hi24, a, b],
// key the seed's two halves.
THAW_HOST_DEVICE inline Block stream_block(uint64_t seed, uint32_t purpose, uint32_t a, uint32_t b, uint64_t blk) {
  const auto lo = static_cast<uint32_t>(blk);
  const uint32_t hi = static_cast<uint32_t>(blk >> 32) & 0x00FFFFFFu;
  return philox4x32_10(lo, (purpose << 24) | hi, a, b, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
}

// Uniform in [0, 1) with 53 bits from a block's first two words (CounterRng::uniform_double_at).
THAW_HOST_DEVICE inline double uniform_double(const Block& b) {
  const uint64_t bits = (static_cast<uint64_t>(b.w[0]) << 21) ^ (b.w[1] >> 11);
  return static_cast<double>(bits & ((uint64_t{1} << 53) - 1)) * (1.0 / 9007199254740992.0);
}

}  // namespace thaw::philox
