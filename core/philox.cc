#include "core/philox.h"

#include <cmath>
#include <numbers>

namespace thaw {

namespace {
constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;

inline void mulhilo(uint32_t a, uint32_t b, uint32_t& hi, uint32_t& lo) {
  const uint64_t p = static_cast<uint64_t>(a) * b;
  hi = static_cast<uint32_t>(p >> 32);
  lo = static_cast<uint32_t>(p);
}
}  // namespace

std::array<uint32_t, 4> philox4x32_10(std::array<uint32_t, 4> c, std::array<uint32_t, 2> k) {
  for (int round = 0; round < 10; ++round) {
    uint32_t hi0, lo0, hi1, lo1;
    mulhilo(kM0, c[0], hi0, lo0);
    mulhilo(kM1, c[2], hi1, lo1);
    c = {hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0};
    k[0] += kW0;
    k[1] += kW1;
  }
  return c;
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
  // Counter layout: [block lo32, purpose<<24 | block hi24, a, b].
  const uint32_t lo = static_cast<uint32_t>(blk);
  const uint32_t hi = static_cast<uint32_t>(blk >> 32) & 0x00FFFFFFu;
  return philox4x32_10({lo, (purpose_ << 24) | hi, a_, b_}, key_);
}

uint32_t CounterRng::u32_at(uint64_t position) const { return block(position / 4)[position % 4]; }

float CounterRng::uniform_float_at(uint64_t position) const {
  return static_cast<float>(u32_at(position) >> 8) * (1.0f / 16777216.0f);
}

double CounterRng::uniform_double_at(uint64_t position) const {
  const auto w = block(position);
  const uint64_t bits = (static_cast<uint64_t>(w[0]) << 21) ^ (w[1] >> 11);
  return static_cast<double>(bits & ((uint64_t{1} << 53) - 1)) * (1.0 / 9007199254740992.0);
}

double CounterRng::normal_at(uint64_t i) const {
  // 1 - u keeps the log argument in (0, 1].
  const double u1 = 1.0 - uniform_double_at(2 * i);
  const double u2 = uniform_double_at(2 * i + 1);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

}  // namespace thaw
