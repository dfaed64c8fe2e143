#pragma once
// `thaw eval --device cuda`: the GPU's inference forward (engine/gpu/cuda_inference.h) on GPU 0
// with its own context. Declared in every build; without CUDA, or without a usable device, it
// throws a UserError naming --device cuda and the reason.
#include <memory>

#include "engine/infer/logits_forward.h"
#include "engine/model/model_state.h"
#include "graph/graph.h"

namespace thaw {

std::unique_ptr<LogitsForward> make_gpu_inference(const Graph& g, const ModelState<float>& state);

}  // namespace thaw
