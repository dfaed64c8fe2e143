#pragma once
// Page-locked (pinned) host memory for the batch loader's slots (core/host_allocator.h): copies
// from it to the device run at full bus speed and can overlap compute (cudaMemcpyAsync), which
// pageable memory cannot. Allocation failures throw an InternalError naming the call.
#include <cstddef>
#include <string>

#include "core/host_allocator.h"

namespace thaw::cuda {

class PinnedHostAllocator final : public HostAllocator {
 public:
  void* allocate(size_t bytes) override;
  void deallocate(void* p, size_t bytes) noexcept override;
  std::string name() const override { return "cuda-pinned"; }
};

}  // namespace thaw::cuda
