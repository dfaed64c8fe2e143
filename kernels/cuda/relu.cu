#include "kernels/cuda/relu.h"

#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/launch.h"

namespace thaw::cuda {

namespace {

template <typename S>
__global__ void relu_forward_kernel(int64_t count, const S* x, S* y) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < count; i += int64_t{gridDim.x} * blockDim.x) {
    const float v = ld(x[i]);
    y[i] = st<S>(v > 0.0f ? v : 0.0f);
  }
}

template <typename S>
__global__ void relu_backward_kernel(int64_t count, const S* y, const S* dy, S* dx) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < count; i += int64_t{gridDim.x} * blockDim.x) {
    dx[i] = st<S>(ld(dx[i]) + (ld(y[i]) > 0.0f ? ld(dy[i]) : 0.0f));
  }
}

}  // namespace

template <typename S>
void relu_forward(Context& ctx, int64_t count, const S* x, S* y) {
  if (count <= 0) return;
  relu_forward_kernel<<<elementwise_blocks(count), kElementwiseThreads, 0, ctx.stream()>>>(count, x, y);
  THAW_CUDA_LAUNCH_CHECK("relu_forward");
}

template <typename S>
void relu_backward(Context& ctx, int64_t count, const S* y, const S* dy, S* dx) {
  if (count <= 0) return;
  relu_backward_kernel<<<elementwise_blocks(count), kElementwiseThreads, 0, ctx.stream()>>>(count, y, dy, dx);
  THAW_CUDA_LAUNCH_CHECK("relu_backward");
}

#define THAW_RELU(S)                                                          \
  template void relu_forward<S>(Context&, int64_t, const S*, S*);             \
  template void relu_backward<S>(Context&, int64_t, const S*, const S*, S*);
THAW_FOR_STORAGE_TYPES(THAW_RELU)

}  // namespace thaw::cuda
