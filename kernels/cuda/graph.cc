#include "kernels/cuda/graph.h"

#include <utility>

#include "core/error.h"
#include "kernels/cuda/check.h"

namespace thaw::cuda {

CapturedGraph::~CapturedGraph() { reset(); }

CapturedGraph::CapturedGraph(CapturedGraph&& o) noexcept
    : graph_(std::exchange(o.graph_, nullptr)), exec_(std::exchange(o.exec_, nullptr)) {}

CapturedGraph& CapturedGraph::operator=(CapturedGraph&& o) noexcept {
  if (this != &o) {
    reset();
    graph_ = std::exchange(o.graph_, nullptr);
    exec_ = std::exchange(o.exec_, nullptr);
  }
  return *this;
}

void CapturedGraph::reset() {
  if (exec_) THAW_CUDA_LOG(cudaGraphExecDestroy(exec_));
  if (graph_) THAW_CUDA_LOG(cudaGraphDestroy(graph_));
  exec_ = nullptr;
  graph_ = nullptr;
}

CapturedGraph CapturedGraph::capture(cudaStream_t stream, const std::function<void()>& queue, const char* what) {
  CapturedGraph g;
  THAW_CUDA_CHECK_CTX(cudaStreamBeginCapture(stream, cudaStreamCaptureModeRelaxed), what);
  try {
    queue();
  } catch (...) {
    cudaGraph_t partial = nullptr;
    THAW_CUDA_LOG(cudaStreamEndCapture(stream, &partial));  // the stream leaves capture mode either way
    if (partial) THAW_CUDA_LOG(cudaGraphDestroy(partial));
    throw;
  }
  THAW_CUDA_CHECK_CTX(cudaStreamEndCapture(stream, &g.graph_), what);
  THAW_CUDA_CHECK_CTX(cudaGraphInstantiate(&g.exec_, g.graph_, 0), what);
  return g;
}

void CapturedGraph::launch(cudaStream_t stream) const {
  THAW_CHECK(exec_ != nullptr, "CapturedGraph::launch: nothing captured");
  THAW_CUDA_CHECK(cudaGraphLaunch(exec_, stream));
}

}  // namespace thaw::cuda
