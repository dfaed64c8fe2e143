#pragma once
// AdamW on device pointers, the twin of the AdamW path of engine/optim/optimizer.h: the same per-element
// formulas with the same roundings, written with explicit rounding intrinsics so that nvcc cannot
// contract or reorder them. Given the same gradient and scalars, the bits equal the CPU's.
//   p   = p * keep                                  (decay only; keep = float(1 - lr wd))
//   m1  = fma(g, 1 - b1, m1 * b1)
//   m2  = fma((1 - b2) * g, g, m2 * b2)
//   den = sqrt(m2) / sqrt(1 - b2^t) + eps
//   p   = p + (neg_step * m1) / den                 (neg_step = float(-(lr / (1 - b1^t))))
// Every element is independent of every other: no reduction, so no order to fix.
#include <cstdint>

namespace thaw::cuda {

class Context;

// Each scalar is the float the CPU rounds its double to (engine/optim/optimizer.cc, step_adamw).
struct AdamWScalars {
  float keep = 1;  // 1 - lr * wd
  float beta1 = 0, beta2 = 0;
  float one_minus_beta1 = 1, one_minus_beta2 = 1;
  float bc2_sqrt = 1;  // sqrt(1 - beta2^t)
  float eps = 0;
  float neg_step = 0;  // -(lr / (1 - beta1^t))
  bool decay = false;  // apply weight decay to this range
  // Device flag (step_skip_flag, kernels/cuda/loss.h) read when the kernel runs: nonzero leaves
  // parameters and moments untouched. Null: always update.
  const int32_t* skip = nullptr;
  // Device floats {keep, neg_step, bc2_sqrt} read when the kernel runs instead of those fields
  // (work captured into a CUDA graph takes each step's from there). Null: the fields.
  const float* step_at = nullptr;
};

void adamw_step(Context& ctx, int64_t count, const AdamWScalars& s, float* p, const float* grad, float* exp_avg,
                float* exp_avg_sq);

}  // namespace thaw::cuda
