#include "kernels/cuda/bn_running.h"

#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/launch.h"

namespace thaw::cuda {

namespace {

__device__ float running_step(double keep, double momentum, float running, float stat) {
  return static_cast<float>(__fma_rn(keep, static_cast<double>(running), __dmul_rn(momentum, static_cast<double>(stat))));
}

__global__ void bn_running_kernel(int64_t c, double keep, double momentum, const float* mean, const float* var,
                                  float* running_mean, float* running_var) {
  for (int64_t k = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; k < c; k += int64_t{gridDim.x} * blockDim.x) {
    running_mean[k] = running_step(keep, momentum, running_mean[k], mean[k]);
    running_var[k] = running_step(keep, momentum, running_var[k], var[k]);
  }
}

}  // namespace

void bn_running_update(Context& ctx, int64_t channels, double momentum, const float* batch_mean,
                       const float* batch_var, float* running_mean, float* running_var) {
  if (channels <= 0) return;
  // 1 - m on the host, as the CPU computes it.
  bn_running_kernel<<<elementwise_blocks(channels), kElementwiseThreads, 0, ctx.stream()>>>(
      channels, 1.0 - momentum, momentum, batch_mean, batch_var, running_mean, running_var);
  THAW_CUDA_LAUNCH_CHECK("bn_running_update");
}

}  // namespace thaw::cuda
