#include "kernels/cuda/accumulate.h"

#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/launch.h"

namespace thaw::cuda {

namespace {

__global__ void accumulate_kernel(int64_t count, const float* src, float* dst) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < count; i += int64_t{gridDim.x} * blockDim.x) {
    dst[i] += src[i];
  }
}

}  // namespace

void accumulate(Context& ctx, int64_t count, const float* src, float* dst) {
  if (count <= 0) return;
  accumulate_kernel<<<elementwise_blocks(count), kElementwiseThreads, 0, ctx.stream()>>>(count, src, dst);
  THAW_CUDA_LAUNCH_CHECK("accumulate");
}

}  // namespace thaw::cuda
