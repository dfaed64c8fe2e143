#include "kernels/cuda/channels_last.h"

#include "core/error.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/launch.h"

namespace thaw::cuda {

namespace {

#define THAW_GRID_LOOP(i, total)                                                          \
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < (total); \
       i += int64_t{gridDim.x} * blockDim.x)

// One thread per output element, NHWC order: reads scatter, writes coalesce. cs >= c channels
// stored per pixel, the ones past c zero.
template <typename S>
__global__ void nchw_to_nhwc_kernel(int64_t n, int64_t c, int64_t hw, int64_t cs, const float* x, S* y) {
  THAW_GRID_LOOP(o, n * hw * cs) {
    const int64_t ch = o % cs, p = (o / cs) % hw, s = o / (cs * hw);
    y[o] = st<S>(ch < c ? x[(s * c + ch) * hw + p] : 0.0f);
  }
}

template <typename S>
__global__ void nhwc_to_nchw_kernel(int64_t n, int64_t c, int64_t hw, const S* x, S* y) {
  THAW_GRID_LOOP(o, n * c * hw) {
    const int64_t p = o % hw, ch = (o / hw) % c, s = o / (c * hw);
    y[o] = x[(s * hw + p) * c + ch];
  }
}

// x holds cs >= c channels per tap; those past c are dropped.
template <typename S>
__global__ void krsc_to_kcrs_kernel(int64_t k, int64_t c, int64_t rs, int64_t cs, const S* x, float* y) {
  THAW_GRID_LOOP(o, k * c * rs) {
    const int64_t p = o % rs, ch = (o / rs) % c, s = o / (c * rs);
    y[o] = ld(x[(s * rs + p) * cs + ch]);
  }
}

// The NCHW kernel's float operations: v = y + b[c], then max(0, v).
template <typename S>
__global__ void bias_relu_nhwc_kernel(int64_t pixels, int64_t c, int64_t stride, const float* b, S* y) {
  THAW_GRID_LOOP(i, pixels * c) {
    const int64_t ch = i % c, at = stride == c ? i : i / c * stride + ch;
    const float v = __fadd_rn(ld(y[at]), b[ch]);
    y[at] = st<S>(v > 0.0f ? v : 0.0f);
  }
}

// The NCHW kernel's scan (kernels/cuda/maxpool.cu): the window clipped to the input, raster
// order, moving only on a strictly greater value.
template <typename S>
__global__ void maxpool_nhwc_kernel(PoolGeom g, int64_t h_out, int64_t w_out, const S* x, S* y) {
  THAW_GRID_LOOP(o, g.n * h_out * w_out * g.c) {
    const int64_t ch = o % g.c, ow = (o / g.c) % w_out, oh = (o / (g.c * w_out)) % h_out, s = o / (g.c * w_out * h_out);
    const S* xs = x + s * g.h_in * g.w_in * g.c + ch;
    const int64_t h0 = max(oh * g.stride - g.pad, int64_t{0}), h1 = min(oh * g.stride - g.pad + g.k, g.h_in);
    const int64_t w0 = max(ow * g.stride - g.pad, int64_t{0}), w1 = min(ow * g.stride - g.pad + g.k, g.w_in);
    float best = ld(xs[(h0 * g.w_in + w0) * g.c]);
    for (int64_t ih = h0; ih < h1; ++ih) {
      for (int64_t iw = w0; iw < w1; ++iw) {
        const float v = ld(xs[(ih * g.w_in + iw) * g.c]);
        if (v > best) best = v;
      }
    }
    y[o] = st<S>(best);
  }
}

// The NCHW kernel's sums (kernels/cuda/avgpool.cu): each row's taps in double, the rows in order,
// one division by the cells counted.
__device__ void avg_span(int64_t o, int64_t stride, int64_t pad, int64_t k, int64_t in_len, bool count_pad,
                         int64_t& lo, int64_t& hi, double& cells) {
  const int64_t s = o * stride - pad;
  lo = max(s, int64_t{0});
  hi = min(s + k, in_len);
  cells = static_cast<double>(count_pad ? min(s + k, in_len + pad) - s : hi - lo);
}

template <typename S>
__global__ void avgpool_nhwc_kernel(PoolGeom g, int64_t h_out, int64_t w_out, const S* x, S* y) {
  THAW_GRID_LOOP(o, g.n * h_out * w_out * g.c) {
    const int64_t ch = o % g.c, ow = (o / g.c) % w_out, oh = (o / (g.c * w_out)) % h_out, s = o / (g.c * w_out * h_out);
    const S* xs = x + s * g.h_in * g.w_in * g.c + ch;
    int64_t r0 = 0, r1 = 0, c0 = 0, c1 = 0;
    double rows = 0, cols = 0;
    avg_span(oh, g.stride, g.pad, g.k, g.h_in, g.count_pad, r0, r1, rows);
    avg_span(ow, g.stride, g.pad, g.k, g.w_in, g.count_pad, c0, c1, cols);
    double sum = 0.0;
    for (int64_t ih = r0; ih < r1; ++ih) {
      double r = 0.0;
      for (int64_t iw = c0; iw < c1; ++iw) r += static_cast<double>(ld(xs[(ih * g.w_in + iw) * g.c]));
      sum += r;
    }
    y[o] = st<S>(static_cast<float>(sum / (rows * cols)));
  }
}

#undef THAW_GRID_LOOP

}  // namespace

namespace {

template <typename In, typename S>
void launch_transpose(Context& ctx, int64_t n, int64_t c, int64_t hw, void (*kernel)(int64_t, int64_t, int64_t, const In*, S*),
                      const In* x, S* y, const char* what) {
  const int64_t total = n * c * hw;
  if (total <= 0) return;
  kernel<<<elementwise_blocks(total), kElementwiseThreads, 0, ctx.stream()>>>(n, c, hw, x, y);
  check_cuda(cudaGetLastError(), what, __FILE__, __LINE__);
}

}  // namespace

template <typename S>
void nchw_to_nhwc(Context& ctx, int64_t n, int64_t c, int64_t hw, const float* x, S* y, int64_t c_stored) {
  const int64_t cs = c_stored > 0 ? c_stored : c;
  THAW_CHECK(cs >= c, "nchw_to_nhwc: ", cs, " stored channels for ", c);
  if (n * cs * hw <= 0) return;
  nchw_to_nhwc_kernel<S><<<elementwise_blocks(n * cs * hw), kElementwiseThreads, 0, ctx.stream()>>>(n, c, hw, cs, x, y);
  THAW_CUDA_LAUNCH_CHECK("nchw_to_nhwc");
}

template <typename S>
void nhwc_to_nchw(Context& ctx, int64_t n, int64_t c, int64_t hw, const S* x, S* y) {
  launch_transpose<S, S>(ctx, n, c, hw, nhwc_to_nchw_kernel<S>, x, y, "launch of nhwc_to_nchw");
}

template <typename S>
void bias_relu_nhwc(Context& ctx, int64_t pixels, int64_t c, const float* b, S* y, int64_t pixel_stride) {
  const int64_t total = pixels * c;
  if (total <= 0) return;
  const int64_t stride = pixel_stride > 0 ? pixel_stride : c;
  bias_relu_nhwc_kernel<<<elementwise_blocks(total), kElementwiseThreads, 0, ctx.stream()>>>(pixels, c, stride, b, y);
  THAW_CUDA_LAUNCH_CHECK("bias_relu_nhwc");
}

namespace {

template <typename S>
using PoolKernel = void (*)(PoolGeom, int64_t, int64_t, const S*, S*);

template <typename S>
void launch_pool(Context& ctx, const PoolGeom& g, PoolKernel<S> kernel, const S* x, S* y, const char* what) {
  const int64_t total = g.y_size();
  if (total <= 0) return;
  kernel<<<elementwise_blocks(total), kElementwiseThreads, 0, ctx.stream()>>>(g, g.h_out(), g.w_out(), x, y);
  check_cuda(cudaGetLastError(), what, __FILE__, __LINE__);
}

}  // namespace

template <typename S>
void maxpool_forward_nhwc(Context& ctx, const PoolGeom& g, const S* x, S* y) {
  launch_pool<S>(ctx, g, maxpool_nhwc_kernel<S>, x, y, "launch of maxpool_forward_nhwc");
}

template <typename S>
void avgpool_forward_nhwc(Context& ctx, const PoolGeom& g, const S* x, S* y) {
  launch_pool<S>(ctx, g, avgpool_nhwc_kernel<S>, x, y, "launch of avgpool_forward_nhwc");
}

template <typename S>
void concat_forward_nhwc(Context& ctx, int64_t pixels, const std::vector<ChannelSlice<const S>>& inputs, S* y) {
  int64_t c_total = 0;
  for (const auto& in : inputs) c_total += in.c;
  int64_t offset = 0;
  for (const auto& in : inputs) {
    THAW_CHECK(in.c >= 1, "concat input with ", in.c, " channels");
    if (in.ptr) {
      const size_t row = static_cast<size_t>(in.c) * sizeof(S);
      THAW_CUDA_CHECK(cudaMemcpy2DAsync(y + offset, static_cast<size_t>(c_total) * sizeof(S), in.ptr, row, row,
                                        static_cast<size_t>(pixels), cudaMemcpyDeviceToDevice, ctx.stream()));
    }
    offset += in.c;
  }
}

// The filters' [k, c, r, s] -> [k, r, s, c] is the activations' transpose with k as the batch.
void kcrs_to_krsc(Context& ctx, int64_t k, int64_t c, int64_t rs, const float* w, float* out, int64_t c_stored) {
  nchw_to_nhwc<float>(ctx, k, c, rs, w, out, c_stored);
}

template <typename S>
void krsc_to_kcrs(Context& ctx, int64_t k, int64_t c, int64_t rs, const S* dw, float* out, int64_t c_stored) {
  const int64_t cs = c_stored > 0 ? c_stored : c;
  THAW_CHECK(cs >= c, "krsc_to_kcrs: ", cs, " stored channels for ", c);
  if (k * c * rs <= 0) return;
  krsc_to_kcrs_kernel<S><<<elementwise_blocks(k * c * rs), kElementwiseThreads, 0, ctx.stream()>>>(k, c, rs, cs, dw,
                                                                                                   out);
  THAW_CUDA_LAUNCH_CHECK("krsc_to_kcrs");
}

#define THAW_CHANNELS_LAST(S)                                                                                   \
  template void nchw_to_nhwc<S>(Context&, int64_t, int64_t, int64_t, const float*, S*, int64_t);               \
  template void nhwc_to_nchw<S>(Context&, int64_t, int64_t, int64_t, const S*, S*);                            \
  template void bias_relu_nhwc<S>(Context&, int64_t, int64_t, const float*, S*, int64_t);                      \
  template void maxpool_forward_nhwc<S>(Context&, const PoolGeom&, const S*, S*);                              \
  template void avgpool_forward_nhwc<S>(Context&, const PoolGeom&, const S*, S*);                              \
  template void concat_forward_nhwc<S>(Context&, int64_t, const std::vector<ChannelSlice<const S>>&, S*);      \
  template void krsc_to_kcrs<S>(Context&, int64_t, int64_t, int64_t, const S*, float*, int64_t);
THAW_FOR_STORAGE_TYPES(THAW_CHANNELS_LAST)

}  // namespace thaw::cuda
