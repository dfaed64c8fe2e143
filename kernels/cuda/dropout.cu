#include "kernels/cuda/dropout.h"

#include "core/error.h"
#include "core/philox.h"
#include "core/philox_core.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/launch.h"

namespace thaw::cuda {

namespace {

float keep_scale(double p) {
  THAW_CHECK(p >= 0.0 && p <= 1.0, "dropout probability must lie in [0, 1], got ", p);
  return p < 1.0 ? static_cast<float>(1.0 / (1.0 - p)) : 0.0f;
}

template <typename S>
__global__ void dropout_forward_kernel(int64_t count, float scale, const uint8_t* keep, const S* x, S* y) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < count; i += int64_t{gridDim.x} * blockDim.x) {
    y[i] = st<S>(keep[i] ? ld(x[i]) * scale : 0.0f);
  }
}

template <typename S>
__global__ void dropout_backward_kernel(int64_t count, float scale, const uint8_t* keep, const S* dy, S* dx) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < count; i += int64_t{gridDim.x} * blockDim.x) {
    // Rounded product, then rounded sum, as the CPU twin writes it (no fused multiply-add).
    dx[i] = st<S>(__fadd_rn(ld(dx[i]), keep[i] ? __fmul_rn(ld(dy[i]), scale) : 0.0f));
  }
}

// This thread's share of the mask. The CPU keys by the 32-bit step and sample position
// (engine/model/executor.cc): the same casts.
__device__ void mask_elements(uint64_t seed, int64_t step, int64_t sample_offset, int64_t per, int64_t count,
                              double p, uint8_t* keep) {
  const auto step32 = static_cast<uint32_t>(step), offset32 = static_cast<uint32_t>(sample_offset);
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < count; i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t s = i / per, e = i % per;
    const philox::Block b = philox::stream_block(seed, static_cast<uint32_t>(RngPurpose::Dropout), step32,
                                                 offset32 + static_cast<uint32_t>(s), static_cast<uint64_t>(e));
    keep[i] = philox::uniform_double(b) >= p;
  }
}

__global__ void dropout_mask_kernel(DeviceStepKey key, int64_t per, int64_t count, double p, uint8_t* keep) {
  mask_elements(key.seed, key.step, key.sample_offset, per, count, p, keep);
}

// The key read on the device when the kernel runs.
__global__ void dropout_mask_at_kernel(const DeviceStepKey* key, int64_t per, int64_t count, double p, uint8_t* keep) {
  mask_elements(key->seed, key->step, key->sample_offset, per, count, p, keep);
}

}  // namespace

void dropout_mask_at(Context& ctx, const DeviceStepKey* key, int64_t batch, int64_t per, double p, uint8_t* keep) {
  const int64_t count = batch * per;
  if (count <= 0) return;
  THAW_CHECK(key != nullptr, "dropout_mask_at: null key");
  dropout_mask_at_kernel<<<elementwise_blocks(count), kElementwiseThreads, 0, ctx.stream()>>>(key, per, count, p, keep);
  THAW_CUDA_LAUNCH_CHECK("dropout_mask_at");
}

void dropout_mask(Context& ctx, uint64_t seed, int64_t step, int64_t sample_offset, int64_t batch, int64_t per,
                  double p, uint8_t* keep) {
  const int64_t count = batch * per;
  if (count <= 0) return;
  dropout_mask_kernel<<<elementwise_blocks(count), kElementwiseThreads, 0, ctx.stream()>>>(
      DeviceStepKey{seed, step, sample_offset}, per, count, p, keep);
  THAW_CUDA_LAUNCH_CHECK("dropout_mask");
}

template <typename S>
void dropout_forward(Context& ctx, int64_t count, double p, const uint8_t* keep, const S* x, S* y) {
  const float scale = keep_scale(p);
  if (count <= 0) return;
  dropout_forward_kernel<<<elementwise_blocks(count), kElementwiseThreads, 0, ctx.stream()>>>(count, scale, keep, x, y);
  THAW_CUDA_LAUNCH_CHECK("dropout_forward");
}

template <typename S>
void dropout_backward(Context& ctx, int64_t count, double p, const uint8_t* keep, const S* dy, S* dx) {
  const float scale = keep_scale(p);
  if (count <= 0) return;
  dropout_backward_kernel<<<elementwise_blocks(count), kElementwiseThreads, 0, ctx.stream()>>>(count, scale, keep, dy,
                                                                                               dx);
  THAW_CUDA_LAUNCH_CHECK("dropout_backward");
}

#define THAW_DROPOUT(S)                                                                           \
  template void dropout_forward<S>(Context&, int64_t, double, const uint8_t*, const S*, S*); \
  template void dropout_backward<S>(Context&, int64_t, double, const uint8_t*, const S*, S*);
THAW_FOR_STORAGE_TYPES(THAW_DROPOUT)

}  // namespace thaw::cuda
