#include "kernels/cuda/accumulate.h"

#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/launch.h"

namespace thaw::cuda {

namespace {

template <typename S>
__global__ void accumulate_kernel(int64_t count, const S* src, S* dst) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < count; i += int64_t{gridDim.x} * blockDim.x) {
    dst[i] = st<S>(ld(dst[i]) + ld(src[i]));
  }
}

}  // namespace

template <typename S>
void accumulate(Context& ctx, int64_t count, const S* src, S* dst) {
  if (count <= 0) return;
  accumulate_kernel<<<elementwise_blocks(count), kElementwiseThreads, 0, ctx.stream()>>>(count, src, dst);
  THAW_CUDA_LAUNCH_CHECK("accumulate");
}

#define THAW_ACCUMULATE(S) template void accumulate<S>(Context&, int64_t, const S*, S*);
THAW_FOR_STORAGE_TYPES(THAW_ACCUMULATE)

}  // namespace thaw::cuda
