#pragma once
// CUDA events recorded on one stream at chosen points, for timing the ops between them
// (`thaw bench --device cuda --profile`): recording costs the stream almost nothing and needs no
// synchronisation; the times are read once the stream has passed the last mark. The events are
// kept and reused after reset().
#include <cuda_runtime.h>

#include <vector>

namespace thaw::cuda {

class EventTimeline {
 public:
  explicit EventTimeline(cudaStream_t stream) : stream_(stream) {}
  ~EventTimeline();
  EventTimeline(const EventTimeline&) = delete;
  EventTimeline& operator=(const EventTimeline&) = delete;

  // Records the next event on the stream; returns its index.
  int mark();
  // Milliseconds from mark a to mark b; waits for b.
  float elapsed_ms(int a, int b);
  void reset() { used_ = 0; }

 private:
  cudaStream_t stream_;
  std::vector<cudaEvent_t> events_;
  int used_ = 0;
};

}  // namespace thaw::cuda
