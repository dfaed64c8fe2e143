#pragma once
// Benchmark inputs: count floats uniform in [-0.5, 0.5), from the counter RNG's synthetic stream.
#include <cstdint>
#include <vector>

#include "core/philox.h"

namespace thaw::benchkit {

inline std::vector<float> uniform(int64_t count, uint32_t stream) {
  const CounterRng rng(1, RngPurpose::Synthetic, stream, 0);
  std::vector<float> v(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) v[i] = rng.uniform_float_at(static_cast<uint64_t>(i)) - 0.5f;
  return v;
}

}  // namespace thaw::benchkit
