#pragma once
// What a training step does with each node, decided once from the graph and the freeze point:
// which nodes train, which outputs are kept for backward, when each output can be freed.
#include <cstdint>
#include <string_view>
#include <vector>

#include "graph/graph.h"

namespace thaw {

// How batch norm behaves inside the trainable blocks. Frozen blocks always use running statistics.
enum class BnPolicy {
  Train,   // batch statistics; running statistics move with momentum 0.1
  Frozen,  // running statistics, left unchanged; gamma and beta still train
};
BnPolicy parse_bn_policy(std::string_view s);  // "train" | "frozen", else a UserError naming --bn

struct Plan {
  int freeze_block = -1;  // last frozen block; -1 freezes nothing
  BnPolicy bn = BnPolicy::Train;
  std::vector<char> trainable;    // per node
  std::vector<char> keep_output;  // per node: the output is read by backward
  std::vector<char> keep_input;   // per node: the node's first input is read by its own backward
  std::vector<int> last_reader;   // per node: the last forward consumer (-1: only the caller reads it)
  std::vector<int> trainable_tensors;  // learnable tensors of trainable nodes, in state_dict order

  bool node_trainable(int n) const { return trainable[n] != 0; }
  int64_t trainable_parameter_count(const Graph& g) const;
  // Bytes per sample held from forward to backward (activations, max-pool argmax, dropout mask),
  // for a given element size.
  int64_t kept_bytes_per_sample(const Graph& g, int64_t elem_bytes) const;
};

Plan make_plan(const Graph& g, int freeze_block, BnPolicy bn);

}  // namespace thaw
