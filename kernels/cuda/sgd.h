#pragma once
// SGD with momentum on device pointers, the twin of the SGD path of engine/optim/optimizer.h: the same
// per-element formulas with the same roundings, written with explicit rounding intrinsics so that
// nvcc cannot contract or reorder them. Given the same gradient, the bits equal the CPU's.
//   g   = fma(p, wd, grad)                   (decay only)
//   buf = g on the first step, else buf = (buf * mu) + g   (momentum only)
//   d   = nesterov ? fma(buf, mu, g) : buf
//   p   = fma(d, -lr, p)
// Every element is independent of every other: no reduction, so no order to fix.
#include <cstdint>

namespace thaw::cuda {

class Context;

struct SgdScalars {
  float weight_decay = 0;  // float(wd), as the CPU rounds it
  float momentum = 0;      // float(mu)
  float neg_lr = 0;        // float(-lr)
  bool decay = false;      // apply weight decay to this range
  bool use_momentum = false;
  bool first_step = false;  // the momentum buffer is set, not read
  bool nesterov = false;
  // Device flag (step_skip_flag, kernels/cuda/loss.h) read when the kernel runs: nonzero leaves
  // parameters and buffer untouched, so that a step can be queued before its loss is known.
  // Null: always update.
  const int32_t* skip = nullptr;
  // Device float read when the kernel runs instead of neg_lr (work captured into a CUDA graph
  // takes each step's learning rate from there). Null: neg_lr.
  const float* neg_lr_at = nullptr;
};

// buf may be null when !use_momentum.
void sgd_step(Context& ctx, int64_t count, const SgdScalars& s, float* p, const float* grad, float* buf);

}  // namespace thaw::cuda
