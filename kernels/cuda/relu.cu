#include "kernels/cuda/relu.h"

#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/launch.h"

namespace thaw::cuda {

namespace {

__global__ void relu_forward_kernel(int64_t count, const float* x, float* y) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < count; i += int64_t{gridDim.x} * blockDim.x) {
    const float v = x[i];
    y[i] = v > 0.0f ? v : 0.0f;
  }
}

__global__ void relu_backward_kernel(int64_t count, const float* y, const float* dy, float* dx) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < count; i += int64_t{gridDim.x} * blockDim.x) {
    dx[i] = dx[i] + (y[i] > 0.0f ? dy[i] : 0.0f);
  }
}

}  // namespace

void relu_forward(Context& ctx, int64_t count, const float* x, float* y) {
  if (count <= 0) return;
  relu_forward_kernel<<<elementwise_blocks(count), kElementwiseThreads, 0, ctx.stream()>>>(count, x, y);
  THAW_CUDA_LAUNCH_CHECK("relu_forward");
}

void relu_backward(Context& ctx, int64_t count, const float* y, const float* dy, float* dx) {
  if (count <= 0) return;
  relu_backward_kernel<<<elementwise_blocks(count), kElementwiseThreads, 0, ctx.stream()>>>(count, y, dy, dx);
  THAW_CUDA_LAUNCH_CHECK("relu_backward");
}

}  // namespace thaw::cuda
