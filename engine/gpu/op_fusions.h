#pragma once
// Which ops the GPU executor runs fused. The frozen part as inference: a frozen convolution followed by its own batch norm and
// ReLU (timm's BasicConv2d: conv, bn, relu, each the only reader of the one before) runs as one
// convolution with the batch norm folded into its weights and a bias, then one fused bias + ReLU
// pass (kernels/cuda/fold_bn.h): no batch-norm pass, no separate ReLU pass, and neither the
// convolution's nor the batch norm's output is ever stored. The trainable part: each batch norm with
// the ReLU after it (fusable_bn_relu). Pure bookkeeping, tested on any machine.
#include <string>
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

// Where a folded group's output goes straight into a concatenation (the Inception blocks' branch
// ends): the group's ReLU (node i + 2 of a folded convolution i) whose only reader is a frozen
// concatenation, at a slice starting at a multiple of 8 channels (16-byte aligned for cuDNN in bf16
// and fp32). Its convolution and bias + ReLU write into the concatenation's output at the
// ReLU's channel slice (the concatenation's sample stride apart), the ReLU has no buffer of its own
// and the concatenation copies nothing for it: the values are the same, only where they are
// stored changes (the CPU executor's concat_taking_in_place, engine/model/executor_fused.cc).
struct ConcatSlot {
  int concat = -1;      // the concatenation written into; -1: the node's output is its own
  int64_t channel = 0;  // the slice's first channel in the concatenation's output
};
std::vector<ConcatSlot> concat_slots(const Graph& g, const Plan& plan, const std::vector<char>& folded);

// The frozen front in channels-last (NHWC) storage, for cuDNN's tensor-core convolution engines:
// nodes 1 to the returned node, the last of the longest frozen prefix made only of folded groups,
// max and average pools and concatenations at which the graph can be cut (no node before it is read
// after it). The image is transposed into NHWC before node 1 and that node's output back into NCHW
// right after it (kernels/cuda/channels_last.h), so everything after it, the cache boundary's rows
// and the trainable part, is stored as before. -1: no such prefix (nothing frozen, or folding off).
int channels_last_end(const Graph& g, const Plan& plan, const std::vector<char>& folded);

// How much of the network the GPU executor stores channels-last: nothing, the frozen front above
// (transposed back after it), or every activation from the image to the global pool, the trainable
// part's gradients too (no transpose anywhere; the trainable convolutions read [k, r, s, c] copies
// of their weights and their weight gradients are transposed back into the masters' layout).
enum class ChannelsLast { off, front, all };
const char* channels_last_name(ChannelsLast scope);  // "off", "front", "all"
// UserError naming `flag` and the accepted values for anything else.
ChannelsLast parse_channels_last(const std::string& text, const char* flag);

// Per node: 1 for a trainable batch norm whose ReLU (node i + 1, its only reader) runs inside it
// (kernels/cuda/batchnorm.h: the forward writes the ReLU's output, the backward reads the ReLU's
// output gradient and output): the batch norm's own output and its gradient are never stored, and
// the ReLU node does nothing of its own.
std::vector<char> fusable_bn_relu(const Graph& g, const Plan& plan);

}  // namespace thaw
