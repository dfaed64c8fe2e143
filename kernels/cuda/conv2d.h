#pragma once
// Convolution without bias, NCHW x OIHW -> NCHW, on device pointers: the twin of
// kernels/cpu/conv2d.h, through cuDNN's backend API with deterministic engines only (conv_plan.h).
// Plans are built on first use of a problem and cached in the Context.
#include <string>

#include "kernels/cuda/conv_plan.h"
#include "kernels/cuda/output_mode.h"
#include "kernels/cuda/storage.h"
#include "kernels/geometry.h"

namespace thaw::cuda {

class Context;

// S: float (the Context's fp32 or TF32 math) or bf16 (ConvMath::bf16: bf16 operands, fp32 sums,
// the output rounded once; kernels/cuda/storage.h).
// `layout` (conv_plan.h): channels-last operands, and y as a slice of a concatenation's output.
template <typename S>
void conv2d_forward(Context& ctx, const ConvGeom& g, const S* x, const S* w, S* y, ConvLayout layout = {});
// y = max(conv(x, w) + bias, 0) as one cuDNN graph (conv_graph.h; CUDNN.md "Frozen layers"), the sum
// and the ReLU in fp32 before y's one rounding; bias: fp32, one per output channel. Returns false,
// having queued nothing, where no engine passes the policy for the fused problem: the caller runs
// conv2d_forward and its own bias + ReLU instead. That answer is cached and recorded as a choice.
template <typename S>
bool conv2d_forward_bias_relu(Context& ctx, const ConvGeom& g, const S* x, const S* w, const float* bias, S* y,
                              ConvLayout layout = {});
// `mode` says whether dx / dw are overwritten or added to. The CPU twin always adds; a weight
// gradient written once per shard uses overwrite (cuDNN's beta 0), which never reads the output.
// Accumulation runs the plan into the Context's scratch area, then adds in a separate pass (in
// bf16: the product rounded, then the sum rounded, as the CPU twin's bf16 rule does it).
// `nhwc`: x, dx, dy channels-last and w, dw [k, r, s, c] (the trainable part in channels-last).
template <typename S>
void conv2d_backward_data(Context& ctx, const ConvGeom& g, const S* dy, const S* w, S* dx, OutputMode mode,
                          bool nhwc = false);
template <typename S>
void conv2d_backward_weight(Context& ctx, const ConvGeom& g, const S* x, const S* dy, S* dw, OutputMode mode,
                            bool nhwc = false);

// The chosen engine for the problem, in one line (building the plan if needed): for run records.
std::string conv2d_plan_report(Context& ctx, ConvDirection dir, const ConvGeom& g);

}  // namespace thaw::cuda
