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

#undef THAW_GRID_LOOP

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
  if (n * c * hw <= 0) return;
  nhwc_to_nchw_kernel<S><<<elementwise_blocks(n * c * hw), kElementwiseThreads, 0, ctx.stream()>>>(n, c, hw, x, y);
  THAW_CUDA_LAUNCH_CHECK("nhwc_to_nchw");
}

template <typename S>
void bias_relu_nhwc(Context& ctx, int64_t pixels, int64_t c, const float* b, S* y, int64_t pixel_stride) {
  const int64_t total = pixels * c;
  if (total <= 0) return;
  const int64_t stride = pixel_stride > 0 ? pixel_stride : c;
  bias_relu_nhwc_kernel<<<elementwise_blocks(total), kElementwiseThreads, 0, ctx.stream()>>>(pixels, c, stride, b, y);
  THAW_CUDA_LAUNCH_CHECK("bias_relu_nhwc");
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
  template void krsc_to_kcrs<S>(Context&, int64_t, int64_t, int64_t, const S*, float*, int64_t);
THAW_FOR_STORAGE_TYPES(THAW_CHANNELS_LAST)

}  // namespace thaw::cuda
