#include "kernels/cuda/concat.h"

#include "core/error.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/launch.h"

namespace thaw::cuda {

namespace {

// dst[s, j] += src[s * src_stride + j] for s < n, j < len.
__global__ void add_rows_kernel(int64_t n, int64_t len, const float* src, int64_t src_stride, float* dst) {
  const int64_t total = n * len;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < total; i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t s = i / len, j = i % len;
    dst[i] += src[s * src_stride + j];
  }
}

}  // namespace

void concat_forward(Context& ctx, int64_t n, int64_t hw, const std::vector<ChannelSlice<const float>>& inputs,
                    float* y) {
  int64_t c_total = 0;
  for (const auto& in : inputs) c_total += in.c;
  int64_t offset = 0;
  for (const auto& in : inputs) {
    THAW_CHECK(in.ptr != nullptr && in.c >= 1, "concat input with ", in.c, " channels and pointer ", in.ptr);
    const size_t row = static_cast<size_t>(in.c * hw) * sizeof(float);
    THAW_CUDA_CHECK(cudaMemcpy2DAsync(y + offset * hw, static_cast<size_t>(c_total * hw) * sizeof(float), in.ptr, row,
                                      row, static_cast<size_t>(n), cudaMemcpyDeviceToDevice, ctx.stream()));
    offset += in.c;
  }
}

void concat_backward(Context& ctx, int64_t n, int64_t hw, const float* dy,
                     const std::vector<ChannelSlice<float>>& dinputs) {
  int64_t c_total = 0;
  for (const auto& d : dinputs) c_total += d.c;
  int64_t offset = 0;
  for (const auto& d : dinputs) {
    if (d.ptr) {
      const int64_t len = d.c * hw;
      add_rows_kernel<<<elementwise_blocks(n * len), kElementwiseThreads, 0, ctx.stream()>>>(
          n, len, dy + offset * hw, c_total * hw, d.ptr);
      THAW_CUDA_LAUNCH_CHECK("concat_backward");
    }
    offset += d.c;
  }
}

}  // namespace thaw::cuda
