#include "kernels/cuda/maxpool.h"

#include "core/error.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/layout.h"

namespace thaw::cuda {

namespace {

struct PoolDims {
  int64_t planes, h_in, w_in, h_out, w_out, k, stride, pad;
  Planes in, out;  // where x / dx and y / dy / argmax elements sit (kernels/cuda/layout.h)
};

template <typename S>
__global__ void maxpool_forward_kernel(PoolDims d, const S* x, S* y, int32_t* argmax) {
  const int64_t total = d.planes * d.h_out * d.w_out;
  for (int64_t o = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; o < total; o += int64_t{gridDim.x} * blockDim.x) {
    const int64_t plane = d.out.plane_of(o), at = d.out.pos_of(o), ow = at % d.w_out, oh = at / d.w_out;
    // Windows are clipped to the input (padded cells never win); the scan starts at the first
    // cell inside and moves only on a strictly greater value, so on ties (and past NaNs) the first
    // cell in window order keeps the gradient, exactly as the CPU twin.
    const int64_t h0 = max(oh * d.stride - d.pad, int64_t{0}), h1 = min(oh * d.stride - d.pad + d.k, d.h_in);
    const int64_t w0 = max(ow * d.stride - d.pad, int64_t{0}), w1 = min(ow * d.stride - d.pad + d.k, d.w_in);
    int64_t best_at = h0 * d.w_in + w0;
    float best = ld(x[d.in.at(plane, best_at)]);
    for (int64_t ih = h0; ih < h1; ++ih) {
      for (int64_t iw = w0; iw < w1; ++iw) {
        const float v = ld(x[d.in.at(plane, ih * d.w_in + iw)]);
        if (v > best) {
          best = v;
          best_at = ih * d.w_in + iw;
        }
      }
    }
    y[o] = st<S>(best);
    if (argmax) argmax[o] = static_cast<int32_t>(best_at);
  }
}

// One thread per input element: the windows containing (ih, iw) are those with
// oh*stride - pad <= ih <= oh*stride - pad + k - 1, visited in output raster order.
template <typename S>
__global__ void maxpool_backward_kernel(PoolDims d, const S* dy, const int32_t* argmax, S* dx) {
  const int64_t total = d.planes * d.h_in * d.w_in;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < total; i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t plane = d.in.plane_of(i), at = d.in.pos_of(i), iw = at % d.w_in, ih = at / d.w_in;
    const int32_t self = static_cast<int32_t>(ih * d.w_in + iw);
    const int64_t oh_lo_num = ih + d.pad - d.k + 1, ow_lo_num = iw + d.pad - d.k + 1;
    const int64_t oh_lo = oh_lo_num <= 0 ? 0 : (oh_lo_num + d.stride - 1) / d.stride;
    const int64_t ow_lo = ow_lo_num <= 0 ? 0 : (ow_lo_num + d.stride - 1) / d.stride;
    const int64_t oh_hi = min((ih + d.pad) / d.stride, d.h_out - 1);
    const int64_t ow_hi = min((iw + d.pad) / d.stride, d.w_out - 1);
    float acc = ld(dx[i]);
    for (int64_t oh = oh_lo; oh <= oh_hi; ++oh) {
      for (int64_t ow = ow_lo; ow <= ow_hi; ++ow) {
        const int64_t o = d.out.at(plane, oh * d.w_out + ow);
        if (argmax[o] == self) acc += ld(dy[o]);
      }
    }
    dx[i] = st<S>(acc);
  }
}

PoolDims dims_of(const PoolGeom& g, Layout layout) {
  // PyTorch's limit, as on the CPU; it also guarantees every window holds an input cell.
  THAW_CHECK(g.k >= 1 && g.stride >= 1 && g.pad >= 0 && 2 * g.pad <= g.k, "max pool k=", g.k,
             " stride=", g.stride, " pad=", g.pad, " is not supported");
  THAW_CHECK(g.h_out() >= 1 && g.w_out() >= 1, "max pool output is empty for input ", g.h_in, "x", g.w_in);
  THAW_CHECK(g.h_in * g.w_in <= 0x7fffffff, "max pool plane too large for 32-bit argmax");
  return PoolDims{g.n * g.c, g.h_in, g.w_in, g.h_out(), g.w_out(), g.k, g.stride, g.pad,
                  Planes::of(g.c, g.h_in * g.w_in, layout), Planes::of(g.c, g.h_out() * g.w_out(), layout)};
}

}  // namespace

template <typename S>
void maxpool_forward(Context& ctx, const PoolGeom& g, const S* x, S* y, int32_t* argmax, Layout layout) {
  const PoolDims d = dims_of(g, layout);
  maxpool_forward_kernel<<<elementwise_blocks(g.y_size()), kElementwiseThreads, 0, ctx.stream()>>>(d, x, y, argmax);
  THAW_CUDA_LAUNCH_CHECK("maxpool_forward");
}

template <typename S>
void maxpool_backward(Context& ctx, const PoolGeom& g, const S* dy, const int32_t* argmax, S* dx, Layout layout) {
  const PoolDims d = dims_of(g, layout);
  maxpool_backward_kernel<<<elementwise_blocks(g.x_size()), kElementwiseThreads, 0, ctx.stream()>>>(d, dy, argmax,
                                                                                                    dx);
  THAW_CUDA_LAUNCH_CHECK("maxpool_backward");
}

#define THAW_MAXPOOL(S)                                                                       \
  template void maxpool_forward<S>(Context&, const PoolGeom&, const S*, S*, int32_t*, Layout);        \
  template void maxpool_backward<S>(Context&, const PoolGeom&, const S*, const int32_t*, S*, Layout);
THAW_FOR_STORAGE_TYPES(THAW_MAXPOOL)

}  // namespace thaw::cuda
