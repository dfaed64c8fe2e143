#pragma once
// Which ops the GPU executor runs fused. The frozen part as inference: a frozen convolution followed by its own batch norm and
// ReLU (timm's BasicConv2d: conv, bn, relu, each the only reader of the one before) runs as one
// convolution with the batch norm folded into its weights and a bias, then one fused bias + ReLU
// pass (kernels/cuda/fold_bn.h): no batch-norm pass, no separate ReLU pass, and neither the
// convolution's nor the batch norm's output is ever stored. The trainable part: each batch norm with
// the ReLU after it (fusable_bn_relu). Pure bookkeeping, tested on any machine.
#include <vector>

#include "engine/model/plan.h"
#include "graph/graph.h"

namespace thaw {

// Per node: 1 for a convolution that runs folded with the batch norm and ReLU after it (nodes i + 1
// and i + 2, which then do nothing of their own); 0 elsewhere. Only frozen nodes are folded:
// trainable batch norms need their batch statistics and their inputs.
std::vector<char> foldable_convs(const Graph& g, const Plan& plan);

// Whether node i is the batch norm or ReLU of a folded group.
inline bool folded_away(const std::vector<char>& folded, int i) {
  return (i >= 1 && folded[static_cast<size_t>(i - 1)]) || (i >= 2 && folded[static_cast<size_t>(i - 2)]);
}

// Per node: 1 for a trainable batch norm whose ReLU (node i + 1, its only reader) runs inside it
// (kernels/cuda/batchnorm.h: the forward writes the ReLU's output, the backward reads the ReLU's
// output gradient and output): the batch norm's own output and its gradient are never stored, and
// the ReLU node does nothing of its own.
std::vector<char> fusable_bn_relu(const Graph& g, const Plan& plan);

}  // namespace thaw
