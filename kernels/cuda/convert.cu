#include "kernels/cuda/convert.h"

#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/launch.h"

namespace thaw::cuda {

namespace {

template <typename From, typename To>
__global__ void convert_kernel(int64_t count, const From* src, To* dst) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < count; i += int64_t{gridDim.x} * blockDim.x) {
    dst[i] = st<To>(ld(src[i]));
  }
}

__global__ void round_kernel(int64_t count, float* p) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < count; i += int64_t{gridDim.x} * blockDim.x) {
    p[i] = ld(st<bf16>(p[i]));
  }
}

}  // namespace

void to_bf16(Context& ctx, int64_t count, const float* src, bf16* dst) {
  if (count <= 0) return;
  convert_kernel<<<elementwise_blocks(count), kElementwiseThreads, 0, ctx.stream()>>>(count, src, dst);
  THAW_CUDA_LAUNCH_CHECK("to_bf16");
}

void to_float(Context& ctx, int64_t count, const bf16* src, float* dst) {
  if (count <= 0) return;
  convert_kernel<<<elementwise_blocks(count), kElementwiseThreads, 0, ctx.stream()>>>(count, src, dst);
  THAW_CUDA_LAUNCH_CHECK("to_float");
}

void round_to_bf16(Context& ctx, int64_t count, float* p) {
  if (count <= 0) return;
  round_kernel<<<elementwise_blocks(count), kElementwiseThreads, 0, ctx.stream()>>>(count, p);
  THAW_CUDA_LAUNCH_CHECK("round_to_bf16");
}

}  // namespace thaw::cuda
