#include "kernels/cuda/adamw.h"

#include "core/error.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/launch.h"

namespace thaw::cuda {

namespace {

// __fmul_rn where the CPU rounds a product on its own (mul_rounded, or a product passed to fma),
// __fmaf_rn where it calls std::fma, and correctly rounded sqrt and division as the host's.
template <bool kDecay>
__global__ void adamw_kernel(int64_t count, AdamWScalars k, float* p, const float* grad, float* m, float* v) {
  if (k.skip != nullptr && *k.skip != 0) return;
  if (k.step_at != nullptr) {
    k.keep = k.step_at[0];
    k.neg_step = k.step_at[1];
    k.bc2_sqrt = k.step_at[2];
  }
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < count; i += int64_t{gridDim.x} * blockDim.x) {
    const float g = grad[i];
    float decayed = p[i];
    if (kDecay) decayed = __fmul_rn(decayed, k.keep);
    const float m1 = __fmaf_rn(g, k.one_minus_beta1, __fmul_rn(m[i], k.beta1));
    const float m2 = __fmaf_rn(__fmul_rn(k.one_minus_beta2, g), g, __fmul_rn(v[i], k.beta2));
    m[i] = m1;
    v[i] = m2;
    const float den = __fadd_rn(__fdiv_rn(__fsqrt_rn(m2), k.bc2_sqrt), k.eps);
    p[i] = __fadd_rn(decayed, __fdiv_rn(__fmul_rn(k.neg_step, m1), den));
  }
}

}  // namespace

void adamw_step(Context& ctx, int64_t count, const AdamWScalars& s, float* p, const float* grad, float* exp_avg,
                float* exp_avg_sq) {
  if (count <= 0) return;
  THAW_CHECK(p && grad && exp_avg && exp_avg_sq, "adamw_step: null pointer (", count, " elements)");
  if (s.decay) {
    adamw_kernel<true><<<elementwise_blocks(count), kElementwiseThreads, 0, ctx.stream()>>>(count, s, p, grad, exp_avg,
                                                                                            exp_avg_sq);
  } else {
    adamw_kernel<false><<<elementwise_blocks(count), kElementwiseThreads, 0, ctx.stream()>>>(count, s, p, grad, exp_avg,
                                                                                             exp_avg_sq);
  }
  THAW_CUDA_LAUNCH_CHECK("adamw_step");
}

}  // namespace thaw::cuda
