#include "graph/graph.h"

#include <algorithm>

#include "core/error.h"

namespace thaw {

std::string_view op_kind_name(OpKind k) {
  switch (k) {
    case OpKind::Input: return "input";
    case OpKind::Conv: return "conv";
    case OpKind::BatchNorm: return "batchnorm";
    case OpKind::Relu: return "relu";
    case OpKind::MaxPool: return "maxpool";
    case OpKind::AvgPool: return "avgpool";
    case OpKind::Concat: return "concat";
    case OpKind::GlobalAvgPool: return "global_avgpool";
    case OpKind::Dropout: return "dropout";
    case OpKind::Linear: return "linear";
  }
  return "?";
}

int Graph::find_block(std::string_view name) const {
  if (name == "none") return -1;
  for (size_t i = 0; i < blocks.size(); ++i) {
    if (blocks[i].name == name || blocks[i].alias == name) return static_cast<int>(i);
  }
  std::string valid = "none", aliases;
  for (const auto& b : blocks) {
    valid += ", " + b.name;
    if (!b.alias.empty() && b.alias != b.name) aliases += (aliases.empty() ? "" : ", ") + b.alias;
  }
  fail_user("--freeze-through: unknown block '", name, "' for ", arch, "; expected one of: ", valid,
            aliases.empty() ? "" : " (or an alias: " + aliases + ")");
}

int Graph::find_tensor(std::string_view name) const {
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (tensors[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

int64_t Graph::parameter_count() const {
  int64_t total = 0;
  for (const auto& t : tensors) {
    if (t.is_parameter()) total += shape_numel(t.shape);
  }
  return total;
}

int64_t Graph::largest_output_floats() const {
  int64_t largest = 0;
  for (const auto& n : nodes) largest = std::max(largest, shape_numel(n.out));
  return largest;
}

int64_t Graph::block_parameter_count(int block) const {
  int64_t total = 0;
  for (const auto& t : tensors) {
    if (t.is_parameter() && nodes[t.node].block == block) total += shape_numel(t.shape);
  }
  return total;
}

int64_t Graph::node_macs(int id) const {
  const Node& n = nodes[id];
  if (n.kind == OpKind::Conv) {
    const Shape& in = nodes[n.inputs[0]].out;
    return n.out[0] * n.out[1] * n.out[2] * in[0] * n.kh * n.kw;
  }
  if (n.kind == OpKind::Linear) return nodes[n.inputs[0]].out[0] * n.out[0];
  return 0;
}

int64_t Graph::block_macs(int block) const {
  int64_t total = 0;
  for (int i = blocks[block].first_node; i <= blocks[block].last_node; ++i) total += node_macs(i);
  return total;
}

int64_t Graph::macs() const {
  int64_t total = 0;
  for (size_t i = 0; i < nodes.size(); ++i) total += node_macs(static_cast<int>(i));
  return total;
}

}  // namespace thaw
