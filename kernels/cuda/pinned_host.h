#pragma once
// Page-locked (pinned) host memory for the batch loader's slots (core/host_allocator.h): copies
// from it to the device run at full bus speed and can overlap compute (cudaMemcpyAsync), which
// pageable memory cannot. Allocation failures throw an InternalError naming the call.
#include <cstddef>
#include <string>
#include <utility>

#include "core/host_allocator.h"

namespace thaw::cuda {

class PinnedHostAllocator final : public HostAllocator {
 public:
  void* allocate(size_t bytes) override;
  void deallocate(void* p, size_t bytes) noexcept override;
  std::string name() const override { return "cuda-pinned"; }
};

// An owned array of `count` T in pinned memory (uninitialised): where the GPU step's downloads
// land, so that they run at full bus speed.
template <typename T>
class PinnedArray {
 public:
  PinnedArray() = default;
  explicit PinnedArray(size_t count) : count_(count) {
    if (count_ > 0) ptr_ = static_cast<T*>(PinnedHostAllocator().allocate(count_ * sizeof(T)));
  }
  ~PinnedArray() {
    if (ptr_) PinnedHostAllocator().deallocate(ptr_, count_ * sizeof(T));
  }
  PinnedArray(const PinnedArray&) = delete;
  PinnedArray& operator=(const PinnedArray&) = delete;
  PinnedArray(PinnedArray&& o) noexcept : ptr_(std::exchange(o.ptr_, nullptr)), count_(std::exchange(o.count_, 0)) {}
  PinnedArray& operator=(PinnedArray&& o) noexcept {
    std::swap(ptr_, o.ptr_);
    std::swap(count_, o.count_);
    return *this;
  }
  T* data() { return ptr_; }
  const T* data() const { return ptr_; }
  size_t size() const { return count_; }

 private:
  T* ptr_ = nullptr;
  size_t count_ = 0;
};

}  // namespace thaw::cuda
