#pragma once
// Batch norm over NCHW on device pointers, the twin of kernels/cpu/batchnorm.h: the same PyTorch
// semantics, the same formulas (statistics in double, the per-element work in float), and the
// same accumulate-into-gradients rule. Every per-channel sum is cut into runs by the shape alone
// (kernels/cuda/channel_chunks.h), each summed by one block's fixed tree, the runs then added in
// order: the bits never depend on timing (no atomics). Uses the Context's scratch area.
#include "kernels/cuda/layout.h"
#include "kernels/cuda/storage.h"
#include "kernels/geometry.h"

namespace thaw::cuda {

class Context;

// save_mean / save_invstd: per channel, kept for backward. running_* are updated in place.
// S: float or bf16 (kernels/cuda/storage.h) for x, y, dy and dx; gamma, beta, the statistics and
// the parameter gradients are fp32 either way. `relu` / `relu_y`: the ReLU that follows the batch
// norm runs inside it (a fused pair, engine/gpu/op_fusions.h): the forward writes the ReLU's
// output; the backward takes the ReLU's output gradient dy and its output relu_y, and gives what
// the separate ReLU backward and batch-norm backward would have. `layout` (kernels/cuda/layout.h):
// x, y, dy, dx and relu_y NCHW or channels-last; the sums run in the same order either way.
template <typename S>
void batchnorm_forward_train(Context& ctx, const BnGeom& g, const S* x, const float* gamma, const float* beta,
                             float* running_mean, float* running_var, S* y, float* save_mean, float* save_invstd,
                             bool relu = false, Layout layout = Layout::nchw);
template <typename S>
void batchnorm_forward_infer(Context& ctx, const BnGeom& g, const S* x, const float* gamma, const float* beta,
                             const float* running_mean, const float* running_var, S* y, bool relu = false,
                             Layout layout = Layout::nchw);
template <typename S>
void batchnorm_backward_train(Context& ctx, const BnGeom& g, const S* x, const S* dy, const float* gamma,
                              const float* save_mean, const float* save_invstd, S* dx, float* dgamma, float* dbeta,
                              const S* relu_y = nullptr, Layout layout = Layout::nchw);
template <typename S>
void batchnorm_backward_infer(Context& ctx, const BnGeom& g, const S* x, const S* dy, const float* gamma,
                              const float* running_mean, const float* running_var, S* dx, float* dgamma,
                              float* dbeta, const S* relu_y = nullptr, Layout layout = Layout::nchw);

}  // namespace thaw::cuda
