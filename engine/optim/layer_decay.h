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

// --lr-groups "conv2d_1a..mixed_5e=0.1,mixed_6a..mixed_6h=0.3" (fastai's discriminative rates): the
// parameters of each range of blocks (inclusive, by name or alias; one block alone as "mixed_7d=0.5")
// learn at lr x its factor, the rest at lr. Ranges may not overlap or run backwards; each error is a
// UserError naming --lr-groups. An empty spec gives an empty map.
std::map<std::string, double> lr_group_scales(const Graph& g, const std::string& spec);

// Both at once: each parameter's scales multiplied (a parameter in neither map keeps 1).
std::map<std::string, double> combine_scales(std::map<std::string, double> a, const std::map<std::string, double>& b);

}  // namespace thaw
