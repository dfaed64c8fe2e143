#pragma once
// y[n, out] = x[n, in] * W[out, in]^T + b[out] in fp32 on device pointers, the twin of
// kernels/cpu/linear.h. The products go through cuBLASLt with a fixed, logged algorithm
// (matmul_plan.h); the bias gradient is our own column sum in double, rows in order.
#include <string>

#include "kernels/cuda/output_mode.h"
#include "kernels/geometry.h"

namespace thaw::cuda {

class Context;

// b may be null (no bias).
void linear_forward(Context& ctx, const LinearGeom& g, const float* x, const float* w, const float* b, float* y);
// Any of dx, dw, db may be null (not wanted). `mode` says whether they are overwritten or added to
// (the CPU twin always adds).
void linear_backward(Context& ctx, const LinearGeom& g, const float* x, const float* w, const float* dy, float* dx,
                     float* dw, float* db, OutputMode mode);

// The algorithm each of the three products uses ("forward: ...; dx: ...; dw: ..."), building the
// plans if needed: for run records.
std::string linear_plan_report(Context& ctx, const LinearGeom& g);

}  // namespace thaw::cuda
