#include "core/philox.h"

#include <cmath>
#include <numbers>

#include "core/philox_core.h"

namespace thaw {

std::array<uint32_t, 4> philox4x32_10(std::array<uint32_t, 4> c, std::array<uint32_t, 2> k) {
  const philox::Block b = philox::philox4x32_10(c[0], c[1], c[2], c[3], k[0], k[1]);
  return {b.w[0], b.w[1], b.w[2], b.w[3]};
}

uint32_t hash32(std::string_view s) {
  uint32_t h = 2166136261u;
  for (unsigned char ch : s) {
    h ^= ch;
    h *= 16777619u;
  }
  return h;
}

CounterRng::CounterRng(uint64_t seed, RngPurpose purpose, uint32_t a, uint32_t b)
    : key_{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)},
      purpose_(static_cast<uint32_t>(purpose)),
      a_(a),
      b_(b) {}

std::array<uint32_t, 4> CounterRng::block(uint64_t blk) const {
  const uint64_t seed = static_cast<uint64_t>(key_[1]) << 32 | key_[0];
  const philox::Block b = philox::stream_block(seed, purpose_, a_, b_, blk);
  return {b.w[0], b.w[1], b.w[2], b.w[3]};
}

uint32_t CounterRng::u32_at(uint64_t position) const { return block(position / 4)[position % 4]; }

float CounterRng::uniform_float_at(uint64_t position) const {
  return static_cast<float>(u32_at(position) >> 8) * (1.0f / 16777216.0f);
}

double CounterRng::uniform_double_at(uint64_t position) const {
  const auto w = block(position);
  return philox::uniform_double(philox::Block{{w[0], w[1], w[2], w[3]}});
}

double CounterRng::normal_at(uint64_t i) const {
  // 1 - u keeps the log argument in (0, 1].
  const double u1 = 1.0 - uniform_double_at(2 * i);
  const double u2 = uniform_double_at(2 * i + 1);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

}  // namespace thaw
