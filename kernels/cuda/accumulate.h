#pragma once
// dst += src elementwise, for ops whose library call can only overwrite (see OutputMode).
#include <cstdint>

namespace thaw::cuda {

class Context;

void accumulate(Context& ctx, int64_t count, const float* src, float* dst);

}  // namespace thaw::cuda
