#pragma once
// Convolution without bias, NCHW fp32 x OIHW -> NCHW, on device pointers: the twin of
// kernels/cpu/conv2d.h, through cuDNN's backend API with deterministic engines only (conv_plan.h).
// Plans are built on first use of a problem and cached in the Context.
#include <string>

#include "kernels/cuda/conv_plan.h"
#include "kernels/cuda/output_mode.h"
#include "kernels/geometry.h"

namespace thaw::cuda {

class Context;

void conv2d_forward(Context& ctx, const ConvGeom& g, const float* x, const float* w, float* y);
// `mode` says whether dx / dw are overwritten or added to. The CPU twin always adds; a weight
// gradient written once per shard uses overwrite (cuDNN's beta 0), which never reads the output.
// Accumulation runs the plan into the Context's scratch area, then adds in a separate pass.
void conv2d_backward_data(Context& ctx, const ConvGeom& g, const float* dy, const float* w, float* dx,
                          OutputMode mode);
void conv2d_backward_weight(Context& ctx, const ConvGeom& g, const float* x, const float* dy, float* dw,
                            OutputMode mode);

// The chosen engine for the problem, in one line (building the plan if needed): for run records.
std::string conv2d_plan_report(Context& ctx, ConvDirection dir, const ConvGeom& g);

}  // namespace thaw::cuda
