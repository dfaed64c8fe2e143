#pragma once
// Batch norm, PyTorch semantics. Training mode normalises with the batch mean and the biased
// variance, and moves the running statistics with the unbiased variance. Backward ACCUMULATES.
#include "kernels/geometry.h"

namespace thaw::cpu {

// save_mean / save_invstd: per channel, kept for backward. relu: y is the ReLU of the output, as
// for batchnorm_forward_infer.
template <typename T>
void batchnorm_forward_train(const BnGeom& g, const T* x, const T* gamma, const T* beta,
                             T* running_mean, T* running_var, T* y, T* save_mean, T* save_invstd,
                             bool relu = false);
// relu: y is the ReLU of the batch norm's output (the pair fused in one pass over memory, the same
// values as relu_forward of the unfused output). y_sample_stride: elements from one sample's output
// to the next, 0 for c * hw; more when y is a channel slice of a concatenation's output.
template <typename T>
void batchnorm_forward_infer(const BnGeom& g, const T* x, const T* gamma, const T* beta,
                             const T* running_mean, const T* running_var, T* y, bool relu = false,
                             int64_t y_sample_stride = 0);
// dx may be null (no input gradient wanted); dgamma/dbeta may be null (affine frozen).
template <typename T>
void batchnorm_backward_train(const BnGeom& g, const T* x, const T* dy, const T* gamma,
                              const T* save_mean, const T* save_invstd, T* dx, T* dgamma, T* dbeta);
// Backward of the running-statistics form (BN policy "frozen" inside trainable blocks).
template <typename T>
void batchnorm_backward_infer(const BnGeom& g, const T* x, const T* dy, const T* gamma,
                              const T* running_mean, const T* running_var, T* dx, T* dgamma, T* dbeta);

}  // namespace thaw::cpu
