#pragma once
// One CUDA event, owned: recorded on a stream, waited for on the host, or timed against another.
// Destruction only logs (a destructor must not throw).
#include <cuda_runtime_api.h>

#include "kernels/cuda/check.h"

namespace thaw::cuda {

class Event {
 public:
  // timing: false makes the event cheaper where it only orders work (cudaEventDisableTiming).
  explicit Event(bool timing = true) {
    THAW_CUDA_CHECK(cudaEventCreateWithFlags(&e_, timing ? cudaEventDefault : cudaEventDisableTiming));
  }
  ~Event() {
    if (e_) THAW_CUDA_LOG(cudaEventDestroy(e_));
  }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  void record(cudaStream_t s) { THAW_CUDA_CHECK(cudaEventRecord(e_, s)); }
  // Returns once the work queued before record() has completed (on any thread: set the event's
  // device current first where the thread may have another).
  void wait() const { THAW_CUDA_CHECK(cudaEventSynchronize(e_)); }
  // Work queued on `stream` from now on starts after the work queued before record() (nothing to
  // wait for where the event was never recorded).
  void order_before(cudaStream_t stream) const { THAW_CUDA_CHECK(cudaStreamWaitEvent(stream, e_, 0)); }
  // The same while `stream` is being captured into a CUDA graph (kernels/cuda/graph.h): the graph
  // gets a node that, at each launch, waits for this event's latest record.
  void order_before_in_graph(cudaStream_t stream) const {
    THAW_CUDA_CHECK(cudaStreamWaitEvent(stream, e_, cudaEventWaitExternal));
  }
  // Milliseconds from `start` to this event, once this event has completed.
  float since(const Event& start) const {
    wait();
    float ms = 0;
    THAW_CUDA_CHECK(cudaEventElapsedTime(&ms, start.e_, e_));
    return ms;
  }

 private:
  cudaEvent_t e_ = nullptr;
};

}  // namespace thaw::cuda
