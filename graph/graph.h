#pragma once
// The network as data: nodes in topological order, shapes inferred from the input size, and the
// parameter and buffer names of timm's state_dict, so that a timm checkpoint loads by name.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/tensor.h"

namespace thaw {

enum class OpKind { Input, Conv, BatchNorm, Relu, MaxPool, AvgPool, Concat, GlobalAvgPool, Dropout, Linear };

std::string_view op_kind_name(OpKind k);

// Layer conventions that come with a set of weights rather than with the architecture: whether
// average pools divide by padded cells too (PyTorch's count_include_pad: timm's inception_v3) or by
// the cells inside the input only (TF's SAME padding: Keras; timm's inception_v4), and batch norm's
// epsilon. The weights file's metadata says which (engine/model/weights_origin.h); the builders apply
// them to every pool and batch-norm node.
struct LayerConventions {
  bool avgpool_count_pad = false;
  double bn_eps = 1e-3;
};

enum class TensorRole { Weight, Bias, BnWeight, BnBias, RunningMean, RunningVar, NumBatchesTracked };

// One entry of the state_dict.
struct TensorSpec {
  std::string name;  // timm key, e.g. "features.6.branch1.1.conv.weight"
  Shape shape;       // [] for num_batches_tracked
  TensorRole role;
  int node = -1;     // owning node
  bool is_parameter() const {
    return role == TensorRole::Weight || role == TensorRole::Bias || role == TensorRole::BnWeight ||
           role == TensorRole::BnBias;
  }
};

struct Node {
  std::string name;  // module path: "features.0.conv", "features.0.bn", "features.6.branch3.0", ...
  OpKind kind = OpKind::Input;
  std::vector<int> inputs;  // node ids, all earlier in the list
  Shape out;                // per sample: [C, H, W], or [F] after global pooling
  int block = -1;           // index into Graph::blocks
  // Conv: kernel, stride and padding per axis; BatchNorm: eps; pools: k, stride, pad (square).
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, ph = 0, pw = 0;
  double eps = 1e-3;
  bool pool_count_pad = false;  // AvgPool: padded cells in the divisor (PoolGeom::count_pad)
  double dropout = 0.0;
  std::vector<int> tensors;  // indices into Graph::tensors, in state_dict order
};

struct Block {
  // v4: TF-slim scope in lower case ("conv2d_1a", "mixed_5b", ..., "head"); v3: timm's module
  // ("Conv2d_1a_3x3", "Mixed_5b", ..., "head").
  std::string name;
  // v4: timm module ("features.0", ..., "features.21", "head"); v3: Keras ("mixed0" .. "mixed10"),
  // empty where Keras has no block name.
  std::string alias;
  int first_node = 0, last_node = 0;  // inclusive range in Graph::nodes
};

struct Graph {
  std::string arch;
  int64_t input_size = 299;
  int64_t num_classes = 1000;
  LayerConventions conventions;  // as applied to the nodes
  std::vector<Node> nodes;
  std::vector<Block> blocks;
  std::vector<TensorSpec> tensors;

  // Block index for a name or alias; "none" gives -1. Unknown names are a UserError listing the valid ones.
  int find_block(std::string_view name) const;
  int find_tensor(std::string_view name) const;  // -1 when absent
  int64_t parameter_count() const;               // learnable parameters only (not buffers)
  int64_t largest_output_floats() const;         // the largest node output per sample

  int64_t block_parameter_count(int block) const;
  int64_t node_macs(int node) const;             // multiply-accumulates per sample (conv and linear)
  int64_t block_macs(int block) const;
  int64_t macs() const;
  int output_node() const { return static_cast<int>(nodes.size()) - 1; }
  // The classifier (the last node, a linear layer): its tensors are replaced for a new class count.
  bool is_head_tensor(int tensor) const { return tensors[tensor].node == output_node(); }
};

}  // namespace thaw
