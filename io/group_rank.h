#pragma once
// A group's place in the order the splits and folds visit groups: a 64-bit rank from the counter
// RNG at a position derived from the XXH3 hash of the group's name, so that it depends on the name
// and the seed only, not on the order of the rows or on the other groups.
#include <cstdint>
#include <string_view>

#include <xxhash.h>

#include "core/philox.h"

namespace thaw {

inline uint64_t group_rank(const CounterRng& rng, std::string_view key) {
  const uint64_t at = (XXH3_64bits(key.data(), key.size()) >> 2) * 2;  // two words per name
  return (static_cast<uint64_t>(rng.u32_at(at)) << 32) | rng.u32_at(at + 1);
}

}  // namespace thaw
