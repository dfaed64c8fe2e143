#pragma once
// The memory a batch needs at the least, checked against what the machine has before the first
// step (core/memory.h): a --batch-size or --input-size that cannot fit is one line naming both,
// where it would otherwise be std::bad_alloc mid-run or the kernel's OOM killer.
#include <cstdint>
#include <string_view>

#include "engine/model/plan.h"
#include "graph/graph.h"

namespace thaw {

// What a training step holds per image at the least: the outputs kept for backward under `plan`,
// and one node's output and gradient in flight.
int64_t training_bytes_per_image(const Graph& g, const Plan& plan);
// A forward pass without backward: one node's input and output.
int64_t inference_bytes_per_image(const Graph& g);

void check_training_batch_memory(const Graph& g, const Plan& plan, int64_t batch);  // names --batch-size
void check_inference_batch_memory(const Graph& g, int64_t batch, std::string_view batch_flag);

}  // namespace thaw
