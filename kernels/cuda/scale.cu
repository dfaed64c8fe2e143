#include "kernels/cuda/scale.h"

#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/launch.h"

namespace thaw::cuda {

namespace {

__global__ void scale_kernel(int64_t count, float s, const float* src, float* dst) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < count; i += int64_t{gridDim.x} * blockDim.x) {
    dst[i] = __fmul_rn(src[i], s);
  }
}

}  // namespace

void scale_into(Context& ctx, int64_t count, float s, const float* src, float* dst) {
  if (count <= 0) return;
  scale_kernel<<<elementwise_blocks(count), kElementwiseThreads, 0, ctx.stream()>>>(count, s, src, dst);
  THAW_CUDA_LAUNCH_CHECK("scale_into");
}

}  // namespace thaw::cuda
