#pragma once
// The GPU twin of kernels/cpu/bn_running.h: one batch's move of batch norm's running statistics
// from its mean and unbiased variance, with the CPU's roundings (explicit intrinsics, so nvcc
// contracts nothing of its own). Each channel is independent: no order to fix.
#include <cstdint>

namespace thaw::cuda {

class Context;

void bn_running_update(Context& ctx, int64_t channels, double momentum, const float* batch_mean,
                       const float* batch_var, float* running_mean, float* running_var);

}  // namespace thaw::cuda
