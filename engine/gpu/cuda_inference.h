#pragma once
// Held-out evaluation on the GPU (`--device cuda`): the whole network as inference (every block
// frozen, running statistics, the frozen groups folded: engine/gpu/op_fusions.h) on a GPU
// executor that keeps its plans and buffers from one evaluation to the next; refresh() brings the
// current weights over before each. fp32 whatever the training precision (the weights evaluated
// are the fp32 masters). Only built with CUDA.
#if THAW_HAVE_CUDA

#include <memory>
#include <span>
#include <vector>

#include "engine/gpu/cuda_executor.h"
#include "engine/infer/logits_forward.h"
#include "engine/model/model_state.h"
#include "graph/graph.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/device_buffer.h"

namespace thaw {

class CudaInference final : public LogitsForward {
 public:
  // On `ctx`'s GPU and stream (a training step's, so that its plans are shared), from `state`.
  CudaInference(cuda::Context& ctx, const Graph& g, const ModelState<float>& state);

  void refresh(const ModelState<float>& state) { exec_.upload(state); }
  std::span<const float> logits(const Tensor<float>& x) override;

 private:
  cuda::Context& ctx_;
  const Graph& g_;
  Plan plan_;
  CudaExecutor exec_;
  cuda::DeviceBuffer<float> x_;
  std::vector<float> logits_;
};

}  // namespace thaw

#endif  // THAW_HAVE_CUDA
