#include "kernels/cuda/linear.h"

#include "core/error.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/matmul_plan.h"

namespace thaw::cuda {

namespace {

// Row-major [r, c] is column-major [c, r] with leading dimension c, so in cuBLAS's column-major
// view (w is [in, out], x is [in, n], dy is [out, n]):
//   y  as [out, n]  = w^T * x
//   dx as [in, n]   = w * dy
//   dw as [in, out] = x * dy^T
GemmShape forward_shape(const LinearGeom& g) { return {true, false, g.out, g.n, g.in, g.in, g.in, g.out}; }
GemmShape dx_shape(const LinearGeom& g) { return {false, false, g.in, g.n, g.out, g.in, g.out, g.in}; }
GemmShape dw_shape(const LinearGeom& g) { return {false, true, g.in, g.out, g.n, g.in, g.out, g.in}; }
// The context's precision (Context::tf32) on a shape.
GemmShape with_math(const Context& ctx, GemmShape s) {
  s.tf32 = ctx.tf32();
  return s;
}

__global__ void broadcast_rows_kernel(int64_t n, int64_t out, const float* b, float* y) {
  const int64_t total = n * out;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < total; i += int64_t{gridDim.x} * blockDim.x) {
    y[i] = b[i % out];
  }
}

// db[o] (+)= sum over rows r of dy[r, o], in double, rows in order.
__global__ void column_sum_kernel(int64_t n, int64_t out, const float* dy, float* db, bool accumulate) {
  for (int64_t o = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; o < out; o += int64_t{gridDim.x} * blockDim.x) {
    double s = 0.0;
    for (int64_t r = 0; r < n; ++r) s += static_cast<double>(dy[r * out + o]);
    db[o] = accumulate ? db[o] + static_cast<float>(s) : static_cast<float>(s);
  }
}

void check_geom(const LinearGeom& g) {
  THAW_CHECK(g.n >= 1 && g.in >= 1 && g.out >= 1, "linear geometry n=", g.n, " in=", g.in, " out=", g.out);
}

}  // namespace

void linear_forward(Context& ctx, const LinearGeom& g, const float* x, const float* w, const float* b, float* y) {
  check_geom(g);
  float beta = 0.0f;
  if (b) {
    // y = b, then y = x W^T + 1 * y: one rounding of the bias add, as y = (x W^T) + b.
    broadcast_rows_kernel<<<elementwise_blocks(g.n * g.out), kElementwiseThreads, 0, ctx.stream()>>>(g.n, g.out, b,
                                                                                                      y);
    THAW_CUDA_LAUNCH_CHECK("linear_forward bias");
    beta = 1.0f;
  }
  matmul_plan(ctx, with_math(ctx, forward_shape(g))).run(ctx, w, x, y, beta);
}

void linear_backward(Context& ctx, const LinearGeom& g, const float* x, const float* w, const float* dy, float* dx,
                     float* dw, float* db, OutputMode mode) {
  check_geom(g);
  const float beta = mode == OutputMode::accumulate ? 1.0f : 0.0f;
  if (dx) matmul_plan(ctx, with_math(ctx, dx_shape(g))).run(ctx, w, dy, dx, beta);
  if (dw) matmul_plan(ctx, with_math(ctx, dw_shape(g))).run(ctx, x, dy, dw, beta);
  if (db) {
    column_sum_kernel<<<elementwise_blocks(g.out), kElementwiseThreads, 0, ctx.stream()>>>(
        g.n, g.out, dy, db, mode == OutputMode::accumulate);
    THAW_CUDA_LAUNCH_CHECK("linear_backward bias");
  }
}

std::string linear_plan_report(Context& ctx, const LinearGeom& g) {
  check_geom(g);
  return cat_str("forward: ", matmul_plan(ctx, with_math(ctx, forward_shape(g))).describe(),
                 "; dx: ", matmul_plan(ctx, with_math(ctx, dx_shape(g))).describe(),
                 "; dw: ", matmul_plan(ctx, with_math(ctx, dw_shape(g))).describe());
}

}  // namespace thaw::cuda
