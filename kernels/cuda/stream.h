#pragma once
// One CUDA stream, owned, on the device current at construction: for work that should run beside
// the Context's stream (the GPU step's batch uploads). Non-blocking: it does not wait for the
// legacy default stream. Destruction waits for its work and only logs (a destructor must not throw).
#include <cuda_runtime_api.h>

#include "kernels/cuda/check.h"

namespace thaw::cuda {

class Stream {
 public:
  Stream() { THAW_CUDA_CHECK(cudaStreamCreateWithFlags(&s_, cudaStreamNonBlocking)); }
  ~Stream() {
    if (!s_) return;
    THAW_CUDA_LOG(cudaStreamSynchronize(s_));
    THAW_CUDA_LOG(cudaStreamDestroy(s_));
  }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  cudaStream_t get() const { return s_; }

 private:
  cudaStream_t s_ = nullptr;
};

}  // namespace thaw::cuda
