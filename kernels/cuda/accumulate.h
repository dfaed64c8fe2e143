#pragma once
// dst += src elementwise, for ops whose library call can only overwrite (see OutputMode).
#include <cstdint>

#include "kernels/cuda/storage.h"

namespace thaw::cuda {

class Context;

// S: float or bf16 (kernels/cuda/storage.h): one fp32 addition, rounded once.
template <typename S>
void accumulate(Context& ctx, int64_t count, const S* src, S* dst);

}  // namespace thaw::cuda
