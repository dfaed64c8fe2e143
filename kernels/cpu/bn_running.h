#pragma once
// One batch's move of batch norm's running statistics, from that batch's mean and unbiased
// variance (as PyTorch: r = (1 - m) r + m s). Data parallelism applies it once per virtual shard,
// in shard order, from the statistics every rank gathered (engine/train/train_step.h); the GPU
// step does the same on the device (kernels/cuda/bn_running.h), with the same rounding: the
// product (1 - m) r fused into the addition, as GCC contracts the plain expression on this
// project's -march, now written out so that neither compiler chooses.
#include <cmath>
#include <cstdint>

namespace thaw::cpu {

inline float bn_running_step(double momentum, float running, float batch_stat) {
  return static_cast<float>(std::fma(1.0 - momentum, static_cast<double>(running),
                                     momentum * static_cast<double>(batch_stat)));
}

inline void bn_running_update(int64_t channels, double momentum, const float* batch_mean, const float* batch_var,
                              float* running_mean, float* running_var) {
  for (int64_t k = 0; k < channels; ++k) {
    running_mean[k] = bn_running_step(momentum, running_mean[k], batch_mean[k]);
    running_var[k] = bn_running_step(momentum, running_var[k], batch_var[k]);
  }
}

}  // namespace thaw::cpu
