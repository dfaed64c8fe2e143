#include "kernels/cuda/pinned_host.h"

#include <cuda_runtime_api.h>

#include "kernels/cuda/check.h"

namespace thaw::cuda {

void* PinnedHostAllocator::allocate(size_t bytes) {
  void* p = nullptr;
  // Portable: usable by every device of the process (one per rank with several GPUs).
  THAW_CUDA_CHECK(cudaHostAlloc(&p, bytes, cudaHostAllocPortable));
  return p;
}

void PinnedHostAllocator::deallocate(void* p, size_t /*bytes*/) noexcept { THAW_CUDA_LOG(cudaFreeHost(p)); }

}  // namespace thaw::cuda
