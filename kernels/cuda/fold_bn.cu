#include "kernels/cuda/fold_bn.h"

#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/launch.h"

namespace thaw::cuda {

namespace {

// One thread per weight element; the channel's scale recomputed by each (a few flops, no sync).
__global__ void fold_kernel(int64_t c_out, int64_t per_out, double eps, const float* w, const float* gamma,
                            const float* beta, const float* mean, const float* var, float* w_out, float* b_out) {
  const int64_t total = c_out * per_out;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < total; i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t k = i / per_out;
    const double invstd = 1.0 / sqrt(static_cast<double>(var[k]) + eps);
    const auto a = static_cast<float>(static_cast<double>(gamma[k]) * invstd);
    w_out[i] = __fmul_rn(w[i], a);
    if (i % per_out == 0) {
      b_out[k] = static_cast<float>(__dadd_rn(static_cast<double>(beta[k]),
                                              -__dmul_rn(static_cast<double>(mean[k]), static_cast<double>(a))));
    }
  }
}

template <typename S>
__global__ void bias_relu_kernel(int64_t total, int64_t c, int64_t hw, int64_t sample_stride, const float* b, S* y) {
  const int64_t per_sample = c * hw;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < total; i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t at = sample_stride == per_sample ? i : i / per_sample * sample_stride + i % per_sample;
    const float v = __fadd_rn(ld(y[at]), b[(i / hw) % c]);
    y[at] = st<S>(v > 0.0f ? v : 0.0f);
  }
}

}  // namespace

void fold_batchnorm(Context& ctx, int64_t c_out, int64_t per_out, double eps, const float* w, const float* gamma,
                    const float* beta, const float* mean, const float* var, float* w_out, float* b_out) {
  const int64_t total = c_out * per_out;
  if (total <= 0) return;
  fold_kernel<<<elementwise_blocks(total), kElementwiseThreads, 0, ctx.stream()>>>(c_out, per_out, eps, w, gamma,
                                                                                   beta, mean, var, w_out, b_out);
  THAW_CUDA_LAUNCH_CHECK("fold_batchnorm");
}

template <typename S>
void bias_relu(Context& ctx, int64_t n, int64_t c, int64_t hw, const float* b, S* y, int64_t sample_stride) {
  const int64_t total = n * c * hw;
  if (total <= 0) return;
  const int64_t stride = sample_stride > 0 ? sample_stride : c * hw;
  bias_relu_kernel<<<elementwise_blocks(total), kElementwiseThreads, 0, ctx.stream()>>>(total, c, hw, stride, b, y);
  THAW_CUDA_LAUNCH_CHECK("bias_relu");
}

#define THAW_BIAS_RELU(S) \
  template void bias_relu<S>(Context&, int64_t, int64_t, int64_t, const float*, S*, int64_t);
THAW_FOR_STORAGE_TYPES(THAW_BIAS_RELU)

}  // namespace thaw::cuda
