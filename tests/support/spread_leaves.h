#pragma once
// Gradient-like leaves for the reduction tests: V vectors whose magnitudes spread over 24 binades,
// so that a float sum depends on its order and only the fixed tree gives the expected bits.
// A pure function of (seed, stream, v, count). host_tree_sum is their sum in the fixed tree.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/philox.h"
#include "engine/parallel/tree_reduce.h"

namespace thaw::testing {

inline std::vector<std::vector<float>> spread_leaves(uint64_t seed, uint32_t stream, int v, size_t count) {
  std::vector<std::vector<float>> leaves(static_cast<size_t>(v), std::vector<float>(count));
  for (int s = 0; s < v; ++s) {
    const CounterRng rng(seed, RngPurpose::Synthetic, stream, static_cast<uint32_t>(s));
    for (size_t i = 0; i < count; ++i) {
      const double scale = std::ldexp(1.0, static_cast<int>(rng.u32_at(2 * i) % 24) - 12);
      leaves[static_cast<size_t>(s)][i] = static_cast<float>((rng.uniform_double_at(2 * i + 1) - 0.5) * scale);
    }
  }
  return leaves;
}

// The fixed tree's sum of the leaves, in host memory: what every rank must end with.
inline std::vector<float> host_tree_sum(std::vector<std::vector<float>> leaves) {
  HostSpace host;
  std::vector<float*> parts;
  for (auto& l : leaves) parts.push_back(l.data());
  tree_sum_inplace(host, parts, leaves[0].size());
  return leaves[0];
}

}  // namespace thaw::testing
