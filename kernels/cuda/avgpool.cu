#include "kernels/cuda/avgpool.h"

#include "core/error.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/layout.h"

namespace thaw::cuda {

namespace {

struct PoolDims {
  int64_t planes, h_in, w_in, h_out, w_out, k, stride, pad;
  bool count_pad;
  Planes in, out;  // where x / dx and y / dy elements sit (kernels/cuda/layout.h)
};

// Rows [lo, hi) of window row oh, or columns of window column ow, clipped to the input; cells: the
// divisor's extent on that axis (with count_pad, the window clipped to the padded input instead).
struct Span {
  int64_t lo, hi;
  double cells;
  __device__ double count() const { return cells; }
};

__device__ Span span_of(int64_t o, int64_t stride, int64_t pad, int64_t k, int64_t in_len, bool count_pad) {
  const int64_t s = o * stride - pad;
  const int64_t lo = max(s, int64_t{0}), hi = min(s + k, in_len);
  return Span{lo, hi, static_cast<double>(count_pad ? min(s + k, in_len + pad) - s : hi - lo)};
}

// The CPU twin sums separably in double: each input row's taps (columns in order), then the rows
// in order, and divides once by rows * columns. Float inputs make these short double sums exact in
// practice, and the order is the same anyway.
template <typename S>
__global__ void avgpool_forward_kernel(PoolDims d, const S* x, S* y) {
  const int64_t total = d.planes * d.h_out * d.w_out;
  for (int64_t o = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; o < total; o += int64_t{gridDim.x} * blockDim.x) {
    const int64_t plane = d.out.plane_of(o), at = d.out.pos_of(o), ow = at % d.w_out, oh = at / d.w_out;
    const Span rows = span_of(oh, d.stride, d.pad, d.k, d.h_in, d.count_pad);
    const Span cols = span_of(ow, d.stride, d.pad, d.k, d.w_in, d.count_pad);
    double s = 0.0;
    for (int64_t ih = rows.lo; ih < rows.hi; ++ih) {
      double r = 0.0;
      for (int64_t iw = cols.lo; iw < cols.hi; ++iw) r += static_cast<double>(ld(x[d.in.at(plane, ih * d.w_in + iw)]));
      s += r;
    }
    y[o] = st<S>(static_cast<float>(s / (rows.count() * cols.count())));
  }
}

// A gather in the CPU twin's order: for input cell (ih, iw), window columns ow by increasing tap
// kj (ow = (iw + pad - kj) / stride), each adding, rounded to float, the double sum over window
// rows oh (in order) of dy / cells.
template <typename S>
__global__ void avgpool_backward_kernel(PoolDims d, const S* dy, S* dx) {
  const int64_t total = d.planes * d.h_in * d.w_in;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < total; i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t plane = d.in.plane_of(i), at = d.in.pos_of(i), iw = at % d.w_in, ih = at / d.w_in;
    const int64_t oh_lo_num = ih + d.pad - d.k + 1;
    const int64_t oh_lo = oh_lo_num <= 0 ? 0 : (oh_lo_num + d.stride - 1) / d.stride;
    const int64_t oh_hi = min((ih + d.pad) / d.stride, d.h_out - 1);
    float acc = ld(dx[i]);
    for (int64_t kj = 0; kj < d.k; ++kj) {
      const int64_t t = iw + d.pad - kj;
      if (t < 0 || t % d.stride != 0) continue;
      const int64_t ow = t / d.stride;
      if (ow >= d.w_out) continue;
      const double cols = span_of(ow, d.stride, d.pad, d.k, d.w_in, d.count_pad).count();
      double cs = 0.0;
      for (int64_t oh = oh_lo; oh <= oh_hi; ++oh) {
        const double rows = span_of(oh, d.stride, d.pad, d.k, d.h_in, d.count_pad).count();
        cs += static_cast<double>(ld(dy[d.out.at(plane, oh * d.w_out + ow)])) / (rows * cols);
      }
      acc += static_cast<float>(cs);
    }
    dx[i] = st<S>(acc);
  }
}

PoolDims dims_of(const PoolGeom& g, Layout layout) {
  // PyTorch's limit, as on the CPU; it also guarantees every window holds an input cell.
  THAW_CHECK(g.k >= 1 && g.stride >= 1 && g.pad >= 0 && 2 * g.pad <= g.k, "average pool k=", g.k,
             " stride=", g.stride, " pad=", g.pad, " is not supported");
  THAW_CHECK(g.h_out() >= 1 && g.w_out() >= 1, "average pool output is empty for input ", g.h_in, "x", g.w_in);
  return PoolDims{g.n * g.c, g.h_in, g.w_in, g.h_out(), g.w_out(), g.k, g.stride, g.pad, g.count_pad,
                  Planes::of(g.c, g.h_in * g.w_in, layout), Planes::of(g.c, g.h_out() * g.w_out(), layout)};
}

}  // namespace

template <typename S>
void avgpool_forward(Context& ctx, const PoolGeom& g, const S* x, S* y, Layout layout) {
  const PoolDims d = dims_of(g, layout);
  avgpool_forward_kernel<<<elementwise_blocks(g.y_size()), kElementwiseThreads, 0, ctx.stream()>>>(d, x, y);
  THAW_CUDA_LAUNCH_CHECK("avgpool_forward");
}

template <typename S>
void avgpool_backward(Context& ctx, const PoolGeom& g, const S* dy, S* dx, Layout layout) {
  const PoolDims d = dims_of(g, layout);
  avgpool_backward_kernel<<<elementwise_blocks(g.x_size()), kElementwiseThreads, 0, ctx.stream()>>>(d, dy, dx);
  THAW_CUDA_LAUNCH_CHECK("avgpool_backward");
}

#define THAW_AVGPOOL(S)                                                      \
  template void avgpool_forward<S>(Context&, const PoolGeom&, const S*, S*, Layout); \
  template void avgpool_backward<S>(Context&, const PoolGeom&, const S*, S*, Layout);
THAW_FOR_STORAGE_TYPES(THAW_AVGPOOL)

}  // namespace thaw::cuda
