#pragma once
// fp32 <-> bf16 on device pointers (round to nearest even, as core/bf16.h on the CPU): the bf16
// rule's working copies, its inputs and its gradients into the fp32 optimizer.
#include <cstdint>

#include "kernels/cuda/storage.h"

namespace thaw::cuda {

class Context;

void to_bf16(Context& ctx, int64_t count, const float* src, bf16* dst);
void to_float(Context& ctx, int64_t count, const bf16* src, float* dst);
// p[i] = float(bf16(p[i])): an fp32 buffer made to hold bf16 values.
void round_to_bf16(Context& ctx, int64_t count, float* p);

}  // namespace thaw::cuda
