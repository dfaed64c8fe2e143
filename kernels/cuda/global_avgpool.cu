#include "kernels/cuda/global_avgpool.h"

#include "core/error.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/launch.h"

namespace thaw::cuda {

namespace {

template <typename S>
__global__ void global_avgpool_forward_kernel(int64_t planes, Planes in, const S* x, S* y) {
  const int64_t hw = in.hw;
  for (int64_t p = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; p < planes; p += int64_t{gridDim.x} * blockDim.x) {
    double s = 0.0;
    for (int64_t i = 0; i < hw; ++i) s += static_cast<double>(ld(x[in.at(p, i)]));
    y[p] = st<S>(static_cast<float>(s / static_cast<double>(hw)));
  }
}

template <typename S>
__global__ void global_avgpool_backward_kernel(int64_t planes, Planes in, const S* dy, S* dx) {
  const int64_t total = planes * in.hw;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < total; i += int64_t{gridDim.x} * blockDim.x) {
    const double g = static_cast<double>(ld(dy[in.plane_of(i)]));
    dx[i] = st<S>(ld(dx[i]) + static_cast<float>(g / static_cast<double>(in.hw)));
  }
}

}  // namespace

template <typename S>
void global_avgpool_forward(Context& ctx, int64_t n, int64_t c, int64_t hw, const S* x, S* y, Layout layout) {
  THAW_CHECK(n >= 1 && c >= 1 && hw >= 1, "global average pool n=", n, " c=", c, " hw=", hw);
  global_avgpool_forward_kernel<<<elementwise_blocks(n * c), kElementwiseThreads, 0, ctx.stream()>>>(
      n * c, Planes::of(c, hw, layout), x, y);
  THAW_CUDA_LAUNCH_CHECK("global_avgpool_forward");
}

template <typename S>
void global_avgpool_backward(Context& ctx, int64_t n, int64_t c, int64_t hw, const S* dy, S* dx, Layout layout) {
  THAW_CHECK(n >= 1 && c >= 1 && hw >= 1, "global average pool n=", n, " c=", c, " hw=", hw);
  global_avgpool_backward_kernel<<<elementwise_blocks(n * c * hw), kElementwiseThreads, 0, ctx.stream()>>>(
      n * c, Planes::of(c, hw, layout), dy, dx);
  THAW_CUDA_LAUNCH_CHECK("global_avgpool_backward");
}

#define THAW_GLOBAL_AVGPOOL(S)                                                                 \
  template void global_avgpool_forward<S>(Context&, int64_t, int64_t, int64_t, const S*, S*, Layout); \
  template void global_avgpool_backward<S>(Context&, int64_t, int64_t, int64_t, const S*, S*, Layout);
THAW_FOR_STORAGE_TYPES(THAW_GLOBAL_AVGPOOL)

}  // namespace thaw::cuda
