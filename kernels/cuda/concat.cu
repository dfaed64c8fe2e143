#include "kernels/cuda/concat.h"

#include "core/error.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/launch.h"

namespace thaw::cuda {

namespace {

// dst[s, j] += src[s * src_stride + j] for s < n, j < len.
template <typename S>
__global__ void add_rows_kernel(int64_t n, int64_t len, const S* src, int64_t src_stride, S* dst) {
  const int64_t total = n * len;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < total; i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t s = i / len, j = i % len;
    dst[i] = st<S>(ld(dst[i]) + ld(src[s * src_stride + j]));
  }
}

// A row: one sample's channels (NCHW), or one pixel's (channels-last); a channel is per_channel
// elements of a row.
struct Rows {
  int64_t count, per_channel;
  Rows(int64_t n, int64_t hw, Layout layout)
      : count(layout == Layout::nhwc ? n * hw : n), per_channel(layout == Layout::nhwc ? 1 : hw) {}
};

}  // namespace

template <typename S>
void concat_forward(Context& ctx, int64_t n, int64_t hw, const std::vector<ChannelSlice<const S>>& inputs, S* y,
                    Layout layout) {
  int64_t c_total = 0;
  for (const auto& in : inputs) c_total += in.c;
  const Rows rows(n, hw, layout);
  int64_t offset = 0;
  for (const auto& in : inputs) {
    THAW_CHECK(in.c >= 1, "concat input with ", in.c, " channels");
    if (!in.ptr) {  // written into its slice by its producer
      offset += in.c;
      continue;
    }
    const size_t row = static_cast<size_t>(in.c * rows.per_channel) * sizeof(S);
    THAW_CUDA_CHECK(cudaMemcpy2DAsync(y + offset * rows.per_channel,
                                      static_cast<size_t>(c_total * rows.per_channel) * sizeof(S), in.ptr, row, row,
                                      static_cast<size_t>(rows.count), cudaMemcpyDeviceToDevice, ctx.stream()));
    offset += in.c;
  }
}

template <typename S>
void concat_backward(Context& ctx, int64_t n, int64_t hw, const S* dy, const std::vector<ChannelSlice<S>>& dinputs,
                     Layout layout) {
  int64_t c_total = 0;
  for (const auto& d : dinputs) c_total += d.c;
  const Rows rows(n, hw, layout);
  int64_t offset = 0;
  for (const auto& d : dinputs) {
    if (d.ptr) {
      const int64_t len = d.c * rows.per_channel;
      add_rows_kernel<<<elementwise_blocks(rows.count * len), kElementwiseThreads, 0, ctx.stream()>>>(
          rows.count, len, dy + offset * rows.per_channel, c_total * rows.per_channel, d.ptr);
      THAW_CUDA_LAUNCH_CHECK("concat_backward");
    }
    offset += d.c;
  }
}

#define THAW_CONCAT(S)                                                                                     \
  template void concat_forward<S>(Context&, int64_t, int64_t, const std::vector<ChannelSlice<const S>>&, S*,   \
                                  Layout);                                                                     \
  template void concat_backward<S>(Context&, int64_t, int64_t, const S*, const std::vector<ChannelSlice<S>>&, \
                                   Layout);
THAW_FOR_STORAGE_TYPES(THAW_CONCAT)

}  // namespace thaw::cuda
