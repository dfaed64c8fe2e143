#include "kernels/cuda/event_timeline.h"

#include "core/error.h"
#include "kernels/cuda/check.h"

namespace thaw::cuda {

EventTimeline::~EventTimeline() {
  for (cudaEvent_t e : events_) THAW_CUDA_LOG(cudaEventDestroy(e));
}

int EventTimeline::mark() {
  if (used_ == static_cast<int>(events_.size())) {
    cudaEvent_t e = nullptr;
    THAW_CUDA_CHECK(cudaEventCreate(&e));
    events_.push_back(e);
  }
  THAW_CUDA_CHECK(cudaEventRecord(events_[static_cast<size_t>(used_)], stream_));
  return used_++;
}

float EventTimeline::elapsed_ms(int a, int b) {
  THAW_CHECK(a >= 0 && b >= 0 && a < used_ && b < used_, "event marks ", a, " and ", b, " of ", used_);
  THAW_CUDA_CHECK(cudaEventSynchronize(events_[static_cast<size_t>(b)]));
  float ms = 0;
  THAW_CUDA_CHECK(cudaEventElapsedTime(&ms, events_[static_cast<size_t>(a)], events_[static_cast<size_t>(b)]));
  return ms;
}

}  // namespace thaw::cuda
