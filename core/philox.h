#pragma once
// Counter-based randomness (Philox4x32-10). Every random number in thaw is a pure function of
// (seed, purpose, a, b, position): nothing depends on thread timing, rank count or call order.
#include <array>
#include <cstdint>
#include <string_view>

namespace thaw {

enum class RngPurpose : uint32_t {
  Order = 1,      // a = epoch
  Augment = 2,    // a = epoch, b = sample index
  Dropout = 3,    // a = step, b = global position in the batch
  Init = 4,       // b = hash of the tensor name
  Synthetic = 5,  // a = step, b = sample (bench and test data)
  Split = 6,      // train/validation split
  Bootstrap = 7,  // a = replicate (stats/bootstrap)
  Folds = 8,      // k-fold assignment (io/folds.h)
};

std::array<uint32_t, 4> philox4x32_10(std::array<uint32_t, 4> counter, std::array<uint32_t, 2> key);

// FNV-1a, used to turn a tensor name into a stream id; stable across platforms.
uint32_t hash32(std::string_view s);

// A stream of numbers for one (seed, purpose, a, b). Positions are explicit, so any element can be
// regenerated alone (e.g. element i of a dropout mask) without generating the ones before it.
class CounterRng {
 public:
  CounterRng(uint64_t seed, RngPurpose purpose, uint32_t a, uint32_t b);

  // Four 32-bit words at block index `block`.
  std::array<uint32_t, 4> block(uint64_t block) const;
  uint32_t u32_at(uint64_t position) const;
  // Uniform in [0, 1) with 24 bits (float) or 53 bits (double) of randomness.
  float uniform_float_at(uint64_t position) const;
  double uniform_double_at(uint64_t position) const;
  // Standard normal from Box-Muller over positions (2*i, 2*i+1).
  double normal_at(uint64_t i) const;

 private:
  std::array<uint32_t, 2> key_;
  uint32_t purpose_;
  uint32_t a_;
  uint32_t b_;
};

}  // namespace thaw
