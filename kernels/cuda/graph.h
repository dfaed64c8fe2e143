#pragma once
// One CUDA graph, captured from what a function queues on a stream and instantiated, owned: the GPU
// step queued once and launched at every later step (engine/train/cuda_train_step.h,
// TrainConfig::gpu_graph), so that the host spends one launch per step instead of one per kernel.
// Capture runs nothing: the host code of the queued work runs once, at capture. Destruction only
// logs (a destructor must not throw).
#include <cuda_runtime_api.h>

#include <functional>

namespace thaw::cuda {

class CapturedGraph {
 public:
  CapturedGraph() = default;
  ~CapturedGraph();
  CapturedGraph(const CapturedGraph&) = delete;
  CapturedGraph& operator=(const CapturedGraph&) = delete;
  CapturedGraph(CapturedGraph&& o) noexcept;
  CapturedGraph& operator=(CapturedGraph&& o) noexcept;

  // What `queue` queues on `stream`, captured and instantiated. Relaxed capture mode: a library
  // may allocate while it is queued (nothing of that is captured), but a wait for `stream` fails
  // the capture, as anything that would reallocate a buffer the step uses waits first. An error
  // inside `queue` ends the capture, leaves the stream usable and is rethrown; `what` names the
  // work in errors.
  static CapturedGraph capture(cudaStream_t stream, const std::function<void()>& queue, const char* what);

  void launch(cudaStream_t stream) const;
  explicit operator bool() const { return exec_ != nullptr; }

 private:
  void reset();
  cudaGraph_t graph_ = nullptr;
  cudaGraphExec_t exec_ = nullptr;
};

}  // namespace thaw::cuda
