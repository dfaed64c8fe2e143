#pragma once
// The architectures thaw builds, chosen by name (--arch on every subcommand that builds a network).
#include <array>
#include <cstdint>
#include <string_view>

#include "graph/graph.h"

namespace thaw {

inline constexpr std::array<std::string_view, 2> kArchitectures = {"inception_v4", "inception_v3"};

// An unknown name is a UserError naming --arch and the valid names.
void check_arch(std::string_view arch);

// timm's conventions for the architecture (what its own weights were trained with).
LayerConventions default_conventions(std::string_view arch);

Graph build_network(std::string_view arch, int64_t input_size, int64_t num_classes, double dropout,
                    const LayerConventions& conventions);
inline Graph build_network(std::string_view arch, int64_t input_size, int64_t num_classes, double dropout = 0.0) {
  return build_network(arch, input_size, num_classes, dropout, default_conventions(arch));
}

}  // namespace thaw
