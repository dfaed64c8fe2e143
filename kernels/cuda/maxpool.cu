#include "kernels/cuda/maxpool.h"

#include "core/error.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/launch.h"

namespace thaw::cuda {

namespace {

struct PoolDims {
  int64_t planes, h_in, w_in, h_out, w_out, k, stride, pad;
};

__global__ void maxpool_forward_kernel(PoolDims d, const float* x, float* y, int32_t* argmax) {
  const int64_t total = d.planes * d.h_out * d.w_out;
  for (int64_t o = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; o < total; o += int64_t{gridDim.x} * blockDim.x) {
    const int64_t ow = o % d.w_out, oh = (o / d.w_out) % d.h_out, plane = o / (d.w_out * d.h_out);
    const float* xp = x + plane * d.h_in * d.w_in;
    float best = -INFINITY;
    int32_t best_at = -1;
    for (int64_t ki = 0; ki < d.k; ++ki) {
      const int64_t ih = oh * d.stride - d.pad + ki;
      if (ih < 0 || ih >= d.h_in) continue;
      for (int64_t kj = 0; kj < d.k; ++kj) {
        const int64_t iw = ow * d.stride - d.pad + kj;
        if (iw < 0 || iw >= d.w_in) continue;
        const int32_t at = static_cast<int32_t>(ih * d.w_in + iw);
        const float v = xp[at];
        // NaN wins and propagates, as in PyTorch; otherwise the first strict maximum wins.
        if (best_at < 0 || v > best || (v != v && best == best)) {
          best = v;
          best_at = at;
        }
      }
    }
    y[o] = best;
    argmax[o] = best_at;
  }
}

// One thread per input element: the windows containing (ih, iw) are those with
// oh*stride - pad <= ih <= oh*stride - pad + k - 1, visited in output raster order.
__global__ void maxpool_backward_kernel(PoolDims d, const float* dy, const int32_t* argmax, float* dx) {
  const int64_t total = d.planes * d.h_in * d.w_in;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < total; i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t iw = i % d.w_in, ih = (i / d.w_in) % d.h_in, plane = i / (d.w_in * d.h_in);
    const int32_t self = static_cast<int32_t>(ih * d.w_in + iw);
    const int64_t oh_lo_num = ih + d.pad - d.k + 1, ow_lo_num = iw + d.pad - d.k + 1;
    const int64_t oh_lo = oh_lo_num <= 0 ? 0 : (oh_lo_num + d.stride - 1) / d.stride;
    const int64_t ow_lo = ow_lo_num <= 0 ? 0 : (ow_lo_num + d.stride - 1) / d.stride;
    const int64_t oh_hi = min((ih + d.pad) / d.stride, d.h_out - 1);
    const int64_t ow_hi = min((iw + d.pad) / d.stride, d.w_out - 1);
    const int64_t out_base = plane * d.h_out * d.w_out;
    float acc = dx[i];
    for (int64_t oh = oh_lo; oh <= oh_hi; ++oh) {
      for (int64_t ow = ow_lo; ow <= ow_hi; ++ow) {
        const int64_t o = out_base + oh * d.w_out + ow;
        if (argmax[o] == self) acc += dy[o];
      }
    }
    dx[i] = acc;
  }
}

PoolDims dims_of(const PoolGeom& g) {
  THAW_CHECK(g.k >= 1 && g.stride >= 1 && g.pad >= 0 && g.pad < g.k, "max pool k=", g.k, " stride=", g.stride,
             " pad=", g.pad);
  THAW_CHECK(g.h_out() >= 1 && g.w_out() >= 1, "max pool output is empty for input ", g.h_in, "x", g.w_in);
  THAW_CHECK(g.h_in * g.w_in <= 0x7fffffff, "max pool plane too large for 32-bit argmax");
  return PoolDims{g.n * g.c, g.h_in, g.w_in, g.h_out(), g.w_out(), g.k, g.stride, g.pad};
}

}  // namespace

void maxpool_forward(Context& ctx, const PoolGeom& g, const float* x, float* y, int32_t* argmax) {
  const PoolDims d = dims_of(g);
  maxpool_forward_kernel<<<elementwise_blocks(g.y_size()), kElementwiseThreads, 0, ctx.stream()>>>(d, x, y, argmax);
  THAW_CUDA_LAUNCH_CHECK("maxpool_forward");
}

void maxpool_backward(Context& ctx, const PoolGeom& g, const float* dy, const int32_t* argmax, float* dx) {
  const PoolDims d = dims_of(g);
  maxpool_backward_kernel<<<elementwise_blocks(g.x_size()), kElementwiseThreads, 0, ctx.stream()>>>(d, dy, argmax,
                                                                                                    dx);
  THAW_CUDA_LAUNCH_CHECK("maxpool_backward");
}

}  // namespace thaw::cuda
