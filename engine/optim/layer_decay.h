#pragma once
// timm's layer-wise learning-rate decay (--layer-decay D) over Inception's blocks: a parameter of
// block b (of B, the head last) learns at lr x D^(B-1-b), so the head keeps the full rate and each
// block towards the input a factor D less. Frozen blocks have no optimizer state and no rate.
#include <map>
#include <string>

#include "graph/graph.h"

namespace thaw {

// The multiplier of every learnable tensor of `g`, by name, for OptimizerConfig::lr_scale. D = 1
// gives an empty map (every rate is lr, bit for bit as without the option).
std::map<std::string, double> layer_decay_scales(const Graph& g, double decay);

}  // namespace thaw
