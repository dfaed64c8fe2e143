#include "engine/optim/layer_decay.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <vector>

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

namespace {

int group_block(const Graph& g, const std::string& name, const std::string& spec) {
  for (size_t i = 0; i < g.blocks.size(); ++i) {
    if (g.blocks[i].name == name || g.blocks[i].alias == name) return static_cast<int>(i);
  }
  std::string valid;
  for (const auto& b : g.blocks) valid += (valid.empty() ? "" : ", ") + b.name;
  fail_user("--lr-groups: unknown block '", name, "' in '", spec, "'; expected blocks of ", g.arch, ": ", valid);
}

}  // namespace

std::map<std::string, double> lr_group_scales(const Graph& g, const std::string& spec) {
  std::map<std::string, double> scales;
  std::vector<int> factor_of_block(g.blocks.size(), 0);  // 1 + the group's index, 0: no group
  std::vector<double> factors;
  size_t start = 0;
  while (start < spec.size()) {
    const size_t comma = std::min(spec.find(',', start), spec.size());
    const std::string group = spec.substr(start, comma - start);
    start = comma + 1;
    const size_t eq = group.find('=');
    if (eq == std::string::npos) fail_user("--lr-groups: expected BLOCK..BLOCK=FACTOR, got '", group, "'");
    const std::string range = group.substr(0, eq), value = group.substr(eq + 1);
    char* end = nullptr;
    const double factor = std::strtod(value.c_str(), &end);
    if (value.empty() || *end != '\0' || !std::isfinite(factor) || factor <= 0 || factor > 1000) {
      fail_user("--lr-groups: expected a factor in (0, 1000] after '=', got '", value, "' in '", group, "'");
    }
    const size_t dots = range.find("..");
    const int first = group_block(g, range.substr(0, dots), spec);
    const int last = dots == std::string::npos ? first : group_block(g, range.substr(dots + 2), spec);
    if (last < first) fail_user("--lr-groups: '", range, "' runs backwards (", g.blocks[last].name, " comes first)");
    factors.push_back(factor);
    for (int b = first; b <= last; ++b) {
      if (factor_of_block[b] != 0) fail_user("--lr-groups: block ", g.blocks[b].name, " is in two groups");
      factor_of_block[b] = static_cast<int>(factors.size());
    }
  }
  for (const TensorSpec& t : g.tensors) {
    if (!t.is_parameter()) continue;
    const int block = g.nodes[static_cast<size_t>(t.node)].block;
    THAW_CHECK(block >= 0, "parameter ", t.name, " outside every block");
    const int f = factor_of_block[static_cast<size_t>(block)];
    if (f != 0) scales[t.name] = factors[static_cast<size_t>(f - 1)];
  }
  return scales;
}

std::map<std::string, double> combine_scales(std::map<std::string, double> a, const std::map<std::string, double>& b) {
  for (const auto& [name, s] : b) {
    const auto [it, fresh] = a.emplace(name, s);
    if (!fresh) it->second *= s;
  }
  return a;
}

}  // namespace thaw
