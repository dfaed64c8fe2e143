#pragma once
// Synthetic batches for benchmarks and tests: inputs uniform in [-1, 1) and labels, each a pure
// function of (seed, step, sample).
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace thaw {

void synthetic_batch(uint64_t seed, int64_t step, int64_t batch, int64_t size, int64_t classes, Tensor<float>& x,
                     std::vector<int32_t>& labels);

}  // namespace thaw
