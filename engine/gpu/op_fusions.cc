#include "engine/gpu/op_fusions.h"

#include <algorithm>

#include "core/error.h"

namespace thaw {

namespace {

// How many nodes read each node's output.
std::vector<int> reader_counts(const Graph& g) {
  std::vector<int> readers(g.nodes.size(), 0);
  for (const Node& node : g.nodes) {
    for (int in : node.inputs) ++readers[static_cast<size_t>(in)];
  }
  return readers;
}

}  // namespace

std::vector<char> foldable_convs(const Graph& g, const Plan& plan) {
  const size_t n = g.nodes.size();
  const std::vector<int> readers = reader_counts(g);
  std::vector<char> folded(n, 0);
  for (size_t i = 1; i + 2 < n; ++i) {
    const Node &conv = g.nodes[i], &bn = g.nodes[i + 1], &relu = g.nodes[i + 2];
    const bool shape = conv.kind == OpKind::Conv && bn.kind == OpKind::BatchNorm && relu.kind == OpKind::Relu &&
                       bn.inputs == std::vector<int>{static_cast<int>(i)} &&
                       relu.inputs == std::vector<int>{static_cast<int>(i + 1)};
    const bool frozen = !plan.trainable[i] && !plan.trainable[i + 1] && !plan.trainable[i + 2];
    if (shape && frozen && readers[i] == 1 && readers[i + 1] == 1) folded[i] = 1;
  }
  return folded;
}

std::vector<ConcatSlot> concat_slots(const Graph& g, const Plan& plan, const std::vector<char>& folded) {
  const size_t n = g.nodes.size();
  const std::vector<int> readers = reader_counts(g);
  std::vector<ConcatSlot> slots(n);
  for (size_t c = 1; c < n; ++c) {
    const Node& cat = g.nodes[c];
    if (cat.kind != OpKind::Concat || plan.trainable[c]) continue;
    int64_t channel = 0;
    for (int src : cat.inputs) {
      // One reader that reads it once: this concatenation, and nothing after. A slice starting at a
      // multiple of 8 channels starts 16-byte aligned in bf16 and fp32, as cuDNN asks.
      if (src >= 2 && folded[static_cast<size_t>(src - 2)] && readers[static_cast<size_t>(src)] == 1 &&
          channel % 8 == 0) {
        slots[static_cast<size_t>(src)] = {static_cast<int>(c), channel};
      }
      channel += g.nodes[static_cast<size_t>(src)].out[0];
    }
  }
  return slots;
}

int channels_last_end(const Graph& g, const Plan& plan, const std::vector<char>& folded) {
  const int n = static_cast<int>(g.nodes.size());
  // The furthest forward reader of any node before i, the image's too: it is stored channels-last
  // for the front only.
  int end = -1, last_read = plan.last_reader[0];
  for (int i = 1; i < n; ++i) {
    const OpKind k = g.nodes[static_cast<size_t>(i)].kind;
    const bool front = !plan.trainable[static_cast<size_t>(i)] &&
                       (folded[static_cast<size_t>(i)] || folded_away(folded, i) || k == OpKind::MaxPool ||
                        k == OpKind::AvgPool || k == OpKind::Concat);
    if (!front) break;
    // A cut: nothing before i is read after it; not inside a folded group (its convolution and batch
    // norm are read by the next node).
    if (last_read <= i && !folded[static_cast<size_t>(i)] && !folded[static_cast<size_t>(i - 1)]) end = i;
    last_read = std::max(last_read, plan.last_reader[static_cast<size_t>(i)]);
  }
  return end;
}

const char* channels_last_name(ChannelsLast scope) {
  switch (scope) {
    case ChannelsLast::off: return "off";
    case ChannelsLast::front: return "front";
    case ChannelsLast::all: return "all";
  }
  return "?";
}

ChannelsLast parse_channels_last(const std::string& text, const char* flag) {
  for (const ChannelsLast scope : {ChannelsLast::off, ChannelsLast::front, ChannelsLast::all}) {
    if (text == channels_last_name(scope)) return scope;
  }
  fail_user(flag, ": expected off, front or all, got '", text, "'");
}

std::vector<char> fusable_bn_relu(const Graph& g, const Plan& plan) {
  const size_t n = g.nodes.size();
  const std::vector<int> readers = reader_counts(g);
  std::vector<char> fused(n, 0);
  for (size_t i = 1; i + 1 < n; ++i) {
    const Node &bn = g.nodes[i], &relu = g.nodes[i + 1];
    if (bn.kind == OpKind::BatchNorm && relu.kind == OpKind::Relu && relu.inputs == std::vector<int>{static_cast<int>(i)} &&
        readers[i] == 1 && plan.trainable[i] && plan.trainable[i + 1]) {
      fused[i] = 1;
    }
  }
  return fused;
}

}  // namespace thaw
