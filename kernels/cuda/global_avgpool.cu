#include "kernels/cuda/global_avgpool.h"

#include "core/error.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/launch.h"

namespace thaw::cuda {

namespace {

__global__ void global_avgpool_forward_kernel(int64_t planes, int64_t hw, const float* x, float* y) {
  for (int64_t p = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; p < planes; p += int64_t{gridDim.x} * blockDim.x) {
    const float* xp = x + p * hw;
    double s = 0.0;
    for (int64_t i = 0; i < hw; ++i) s += static_cast<double>(xp[i]);
    y[p] = static_cast<float>(s / static_cast<double>(hw));
  }
}

__global__ void global_avgpool_backward_kernel(int64_t planes, int64_t hw, const float* dy, float* dx) {
  const int64_t total = planes * hw;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < total; i += int64_t{gridDim.x} * blockDim.x) {
    dx[i] += static_cast<float>(static_cast<double>(dy[i / hw]) / static_cast<double>(hw));
  }
}

}  // namespace

void global_avgpool_forward(Context& ctx, int64_t n, int64_t c, int64_t hw, const float* x, float* y) {
  THAW_CHECK(n >= 1 && c >= 1 && hw >= 1, "global average pool n=", n, " c=", c, " hw=", hw);
  global_avgpool_forward_kernel<<<elementwise_blocks(n * c), kElementwiseThreads, 0, ctx.stream()>>>(n * c, hw, x, y);
  THAW_CUDA_LAUNCH_CHECK("global_avgpool_forward");
}

void global_avgpool_backward(Context& ctx, int64_t n, int64_t c, int64_t hw, const float* dy, float* dx) {
  THAW_CHECK(n >= 1 && c >= 1 && hw >= 1, "global average pool n=", n, " c=", c, " hw=", hw);
  global_avgpool_backward_kernel<<<elementwise_blocks(n * c * hw), kElementwiseThreads, 0, ctx.stream()>>>(n * c, hw,
                                                                                                          dy, dx);
  THAW_CUDA_LAUNCH_CHECK("global_avgpool_backward");
}

}  // namespace thaw::cuda
