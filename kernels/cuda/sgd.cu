#include "kernels/cuda/sgd.h"

#include "core/error.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/launch.h"

namespace thaw::cuda {

namespace {

// The flags are template arguments so that each variant is a straight loop; the roundings are
// the CPU's: __fmaf_rn where it calls std::fma, __fmul_rn then __fadd_rn where it rounds the
// product before adding (mul_rounded in engine/optim/optimizer.cc).
template <bool kDecay, bool kMomentum, bool kFirst, bool kNesterov>
__global__ void sgd_kernel(int64_t count, float wd, float mu, float neg_lr, float* p, const float* grad,
                           float* buf, const int32_t* skip, const float* neg_lr_at) {
  if (skip != nullptr && *skip != 0) return;
  if (neg_lr_at != nullptr) neg_lr = *neg_lr_at;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < count; i += int64_t{gridDim.x} * blockDim.x) {
    float g = grad[i];
    if (kDecay) g = __fmaf_rn(p[i], wd, g);
    if (kMomentum) {
      const float b = kFirst ? g : __fadd_rn(__fmul_rn(buf[i], mu), g);
      buf[i] = b;
      g = kNesterov ? __fmaf_rn(b, mu, g) : b;
    }
    p[i] = __fmaf_rn(g, neg_lr, p[i]);
  }
}

template <bool kDecay, bool kMomentum, bool kFirst, bool kNesterov>
void launch(Context& ctx, int64_t count, const SgdScalars& s, float* p, const float* grad, float* buf) {
  sgd_kernel<kDecay, kMomentum, kFirst, kNesterov><<<elementwise_blocks(count), kElementwiseThreads, 0, ctx.stream()>>>(
      count, s.weight_decay, s.momentum, s.neg_lr, p, grad, buf, s.skip, s.neg_lr_at);
  THAW_CUDA_LAUNCH_CHECK("sgd_step");
}

template <bool kDecay, bool kMomentum>
void pick_first(Context& ctx, int64_t count, const SgdScalars& s, float* p, const float* grad, float* buf) {
  if (!kMomentum) return launch<kDecay, false, false, false>(ctx, count, s, p, grad, buf);
  if (s.first_step) {
    if (s.nesterov) return launch<kDecay, true, true, true>(ctx, count, s, p, grad, buf);
    return launch<kDecay, true, true, false>(ctx, count, s, p, grad, buf);
  }
  if (s.nesterov) return launch<kDecay, true, false, true>(ctx, count, s, p, grad, buf);
  launch<kDecay, true, false, false>(ctx, count, s, p, grad, buf);
}

}  // namespace

void sgd_step(Context& ctx, int64_t count, const SgdScalars& s, float* p, const float* grad, float* buf) {
  if (count <= 0) return;
  THAW_CHECK(p && grad, "sgd_step: null parameter or gradient pointer (", count, " elements)");
  THAW_CHECK(!s.use_momentum || buf, "sgd_step: momentum without a buffer (", count, " elements)");
  THAW_CHECK(!s.nesterov || s.use_momentum, "sgd_step: Nesterov needs momentum");
  if (s.decay) {
    if (s.use_momentum) return pick_first<true, true>(ctx, count, s, p, grad, buf);
    return pick_first<true, false>(ctx, count, s, p, grad, buf);
  }
  if (s.use_momentum) return pick_first<false, true>(ctx, count, s, p, grad, buf);
  pick_first<false, false>(ctx, count, s, p, grad, buf);
}

}  // namespace thaw::cuda
