#pragma once
// Gathers samples of a dataset into a batch tensor and draws the epoch's sample order.
#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "io/dataset.h"

namespace thaw {

// A permutation of [0, n) that depends only on (seed, epoch): Fisher-Yates driven by Philox.
std::vector<int64_t> epoch_order(int64_t n, uint64_t seed, int64_t epoch);

// Loads the samples `indices` into x [B, 3, size, size] and their labels; samples load in
// parallel, each into its own slot, so the result does not depend on the thread count. When samples
// fail to load, the error of the first of them (in batch order) is rethrown after the loop.
void load_batch(const Dataset& data, const std::vector<int64_t>& indices, int64_t size, LoadMode mode,
                Tensor<float>& x, std::vector<int32_t>& labels);

}  // namespace thaw
