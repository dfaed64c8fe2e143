#include "engine/optim/layer_decay.h"

#include <cmath>

#include "core/error.h"

namespace thaw {

std::map<std::string, double> layer_decay_scales(const Graph& g, double decay) {
  if (!(decay > 0 && decay <= 1)) fail_user("--layer-decay: expected a number in (0, 1], got ", decay);
  std::map<std::string, double> scales;
  if (decay == 1) return scales;
  const int last = static_cast<int>(g.blocks.size()) - 1;
  for (const TensorSpec& t : g.tensors) {
    if (!t.is_parameter()) continue;
    const int block = g.nodes[static_cast<size_t>(t.node)].block;
    THAW_CHECK(block >= 0, "parameter ", t.name, " outside every block");
    scales[t.name] = std::pow(decay, last - block);
  }
  return scales;
}

}  // namespace thaw
