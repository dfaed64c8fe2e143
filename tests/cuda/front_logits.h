#pragma once
// The logits of one forward of Inception v4 (299 px, 10 classes, random state of seed 7) frozen
// through mixed_6h, on a synthetic batch of 2 (seed 7): the case the frozen front's layout tests
// (channels-last, fused epilogue) compare across executor settings.
#include <functional>
#include <vector>

#include "engine/gpu/cuda_executor.h"
#include "tests/cuda/cuda_test_util.h"

namespace thaw::cuda_test {

// `configure` runs on the executor before its forward; `after` (optional) after it.
std::vector<float> mixed_6h_logits(CudaTest& t, bool bf16, const std::function<void(CudaExecutor&)>& configure,
                                   const std::function<void(const CudaExecutor&)>& after = nullptr);

}  // namespace thaw::cuda_test
