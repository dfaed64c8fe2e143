#include "kernels/cuda/avgpool.h"

#include "core/error.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/launch.h"

namespace thaw::cuda {

namespace {

struct PoolDims {
  int64_t planes, h_in, w_in, h_out, w_out, k, stride, pad;
};

// Cells of window (oh, ow) that lie inside the input: [h0, h1) x [w0, w1).
struct Window {
  int64_t h0, h1, w0, w1;
  __device__ float count() const { return static_cast<float>((h1 - h0) * (w1 - w0)); }
};

__device__ Window window_of(const PoolDims& d, int64_t oh, int64_t ow) {
  const int64_t hs = oh * d.stride - d.pad, ws = ow * d.stride - d.pad;
  return Window{max(hs, int64_t{0}), min(hs + d.k, d.h_in), max(ws, int64_t{0}), min(ws + d.k, d.w_in)};
}

__global__ void avgpool_forward_kernel(PoolDims d, const float* x, float* y) {
  const int64_t total = d.planes * d.h_out * d.w_out;
  for (int64_t o = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; o < total; o += int64_t{gridDim.x} * blockDim.x) {
    const int64_t ow = o % d.w_out, oh = (o / d.w_out) % d.h_out, plane = o / (d.w_out * d.h_out);
    const float* xp = x + plane * d.h_in * d.w_in;
    const Window w = window_of(d, oh, ow);
    float s = 0.0f;
    for (int64_t ih = w.h0; ih < w.h1; ++ih) {
      for (int64_t iw = w.w0; iw < w.w1; ++iw) s += xp[ih * d.w_in + iw];
    }
    y[o] = s / w.count();
  }
}

__global__ void avgpool_backward_kernel(PoolDims d, const float* dy, float* dx) {
  const int64_t total = d.planes * d.h_in * d.w_in;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < total; i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t iw = i % d.w_in, ih = (i / d.w_in) % d.h_in, plane = i / (d.w_in * d.h_in);
    const int64_t oh_lo_num = ih + d.pad - d.k + 1, ow_lo_num = iw + d.pad - d.k + 1;
    const int64_t oh_lo = oh_lo_num <= 0 ? 0 : (oh_lo_num + d.stride - 1) / d.stride;
    const int64_t ow_lo = ow_lo_num <= 0 ? 0 : (ow_lo_num + d.stride - 1) / d.stride;
    const int64_t oh_hi = min((ih + d.pad) / d.stride, d.h_out - 1);
    const int64_t ow_hi = min((iw + d.pad) / d.stride, d.w_out - 1);
    const float* dyp = dy + plane * d.h_out * d.w_out;
    float acc = dx[i];
    for (int64_t oh = oh_lo; oh <= oh_hi; ++oh) {
      for (int64_t ow = ow_lo; ow <= ow_hi; ++ow) acc += dyp[oh * d.w_out + ow] / window_of(d, oh, ow).count();
    }
    dx[i] = acc;
  }
}

PoolDims dims_of(const PoolGeom& g) {
  THAW_CHECK(g.k >= 1 && g.stride >= 1 && g.pad >= 0 && g.pad < g.k, "average pool k=", g.k, " stride=", g.stride,
             " pad=", g.pad);
  THAW_CHECK(g.h_out() >= 1 && g.w_out() >= 1, "average pool output is empty for input ", g.h_in, "x", g.w_in);
  return PoolDims{g.n * g.c, g.h_in, g.w_in, g.h_out(), g.w_out(), g.k, g.stride, g.pad};
}

}  // namespace

void avgpool_forward(Context& ctx, const PoolGeom& g, const float* x, float* y) {
  const PoolDims d = dims_of(g);
  avgpool_forward_kernel<<<elementwise_blocks(g.y_size()), kElementwiseThreads, 0, ctx.stream()>>>(d, x, y);
  THAW_CUDA_LAUNCH_CHECK("avgpool_forward");
}

void avgpool_backward(Context& ctx, const PoolGeom& g, const float* dy, float* dx) {
  const PoolDims d = dims_of(g);
  avgpool_backward_kernel<<<elementwise_blocks(g.x_size()), kElementwiseThreads, 0, ctx.stream()>>>(d, dy, dx);
  THAW_CUDA_LAUNCH_CHECK("avgpool_backward");
}

}  // namespace thaw::cuda
