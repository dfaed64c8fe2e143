#pragma once
// The bf16 rule of `--precision bf16`: which values are rounded to bf16 (core/bf16.h) and where.
// The GPU step stores those values as bf16; the CPU executor (Executor<float>::set_bf16, run by
// `--precision bf16 --emulate-bf16`) rounds the same values at the same points in fp32
// arithmetic, so that the rule itself is tested without a GPU and the GPU's bf16 step has a CPU
// twin to be compared with. What the rule is, in PyTorch autocast's terms (timm's bf16 training):
//
//  - bf16: the image as uploaded; every node's output (activations); the working copies of the
//    convolution weights and of the classifier's weight and bias; every gradient flowing between
//    nodes (the logits' gradient included), rounded after each addition into it (a convolution's
//    or the classifier's input gradient is rounded once before it is added too: the GPU's library
//    call stores it in bf16 first); the gradients of the convolution weights and of the
//    classifier's weight and bias.
//  - fp32: the arithmetic inside every op (products summed in fp32, batch-norm statistics, pooling
//    sums); the master weights, optimizer state and checkpoints; batch norm's gamma, beta, running
//    statistics and their gradients; the loss.
#include <string_view>

#include "graph/graph.h"

namespace thaw {

// The compute precisions of `--precision`.
enum class Numerics { Fp32, Tf32, Bf16 };

// "fp32", "tf32" or "bf16"; anything else is a UserError naming --precision.
Numerics parse_numerics(std::string_view s);
const char* numerics_name(Numerics n);

// Ops whose learnable tensors enter the arithmetic as bf16 working copies and whose gradients are
// rounded to bf16 (before the fp32 optimizer reads them).
constexpr bool bf16_weight_operands(OpKind k) { return k == OpKind::Conv || k == OpKind::Linear; }

}  // namespace thaw
