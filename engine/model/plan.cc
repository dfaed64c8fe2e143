#include "engine/model/plan.h"

#include "core/error.h"

namespace thaw {

BnPolicy parse_bn_policy(std::string_view s) {
  if (s == "train") return BnPolicy::Train;
  if (s == "frozen") return BnPolicy::Frozen;
  fail_user("--bn: expected 'train' or 'frozen', got '", s, "'");
}

Plan make_plan(const Graph& g, int freeze_block, BnPolicy bn) {
  const size_t n = g.nodes.size();
  Plan p;
  p.freeze_block = freeze_block;
  p.bn = bn;
  p.trainable.assign(n, 0);
  p.keep_output.assign(n, 0);
  p.keep_input.assign(n, 0);
  p.last_reader.assign(n, -1);
  for (size_t i = 0; i < n; ++i) {
    const Node& node = g.nodes[i];
    p.trainable[i] = node.kind != OpKind::Input && node.block > freeze_block;
    for (int in : node.inputs) p.last_reader[in] = static_cast<int>(i);
    if (!p.trainable[i]) continue;
    switch (node.kind) {
      case OpKind::Conv:
      case OpKind::BatchNorm:
      case OpKind::Linear: p.keep_input[i] = 1; break;  // weight gradients read the input
      case OpKind::Relu: p.keep_output[i] = 1; break;   // the mask is the output's sign
      default: break;
    }
  }
  for (size_t i = 0; i < n; ++i) {
    if (p.keep_input[i]) p.keep_output[g.nodes[i].inputs[0]] = 1;
  }
  for (size_t t = 0; t < g.tensors.size(); ++t) {
    if (g.tensors[t].is_parameter() && p.trainable[g.tensors[t].node]) p.trainable_tensors.push_back(static_cast<int>(t));
  }
  return p;
}

int64_t Plan::trainable_parameter_count(const Graph& g) const {
  int64_t total = 0;
  for (int t : trainable_tensors) total += shape_numel(g.tensors[t].shape);
  return total;
}

int64_t Plan::kept_bytes_per_sample(const Graph& g, int64_t elem_bytes) const {
  int64_t bytes = 0;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const int64_t elems = shape_numel(g.nodes[i].out);
    if (keep_output[i]) bytes += elems * elem_bytes;
    if (!trainable[i]) continue;
    if (g.nodes[i].kind == OpKind::MaxPool) bytes += elems * 4;  // int32 argmax
    if (g.nodes[i].kind == OpKind::Dropout && g.nodes[i].dropout > 0) bytes += elems;  // uint8 mask
  }
  return bytes;
}

}  // namespace thaw
