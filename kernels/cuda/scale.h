#pragma once
// dst = src * s elementwise, one rounded product per element (the 1/V of the virtual shards'
// gradient sum, engine/train/cuda_train_step.h; exact for a power-of-two V, as on the CPU).
#include <cstdint>

namespace thaw::cuda {

class Context;

void scale_into(Context& ctx, int64_t count, float s, const float* src, float* dst);

}  // namespace thaw::cuda
