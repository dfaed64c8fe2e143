#pragma once
// `thaw predict --device cuda`: batched inference on GPU 0. Declared in every build; without CUDA,
// or without a usable device, it throws a UserError naming --device cuda and the reason.
#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "engine/model/model_state.h"
#include "graph/graph.h"

namespace thaw {

// Logits [n, K] of n normalised images (host, [n, 3, size, size] flattened), in batches of at most
// `batch_size`, with every block frozen and running statistics (as the CPU predict does).
Tensor<float> cuda_predict_logits(const Graph& g, const ModelState<float>& state, const std::vector<float>& x,
                                  int64_t n, int64_t batch_size);

}  // namespace thaw
