#pragma once
// Batch norm over NCHW fp32 on device pointers, the twin of kernels/cpu/batchnorm.h: the same
// PyTorch semantics, the same formulas (statistics in double, the per-element work in float), and
// the same accumulate-into-gradients rule. Every per-channel sum is one block per channel with a
// fixed thread count and a fixed tree, so the bits never depend on timing (no atomics).
#include "kernels/geometry.h"

namespace thaw::cuda {

class Context;

// save_mean / save_invstd: per channel, kept for backward. running_* are updated in place.
void batchnorm_forward_train(Context& ctx, const BnGeom& g, const float* x, const float* gamma,
                             const float* beta, float* running_mean, float* running_var, float* y,
                             float* save_mean, float* save_invstd);
void batchnorm_forward_infer(Context& ctx, const BnGeom& g, const float* x, const float* gamma,
                             const float* beta, const float* running_mean, const float* running_var,
                             float* y);
// Accumulates; dx may be null (no input gradient wanted), dgamma/dbeta may be null.
void batchnorm_backward_train(Context& ctx, const BnGeom& g, const float* x, const float* dy,
                              const float* gamma, const float* save_mean, const float* save_invstd,
                              float* dx, float* dgamma, float* dbeta);
// Backward of the running-statistics form (BN policy "frozen" inside trainable blocks).
void batchnorm_backward_infer(Context& ctx, const BnGeom& g, const float* x, const float* dy,
                              const float* gamma, const float* running_mean, const float* running_var,
                              float* dx, float* dgamma, float* dbeta);

}  // namespace thaw::cuda
