#pragma once
// An owned, typed, uninitialised device allocation. Copies to and from the host are ordered on
// the stream given and return once the host side may be reused (the stream is synchronised).
#include <cuda_runtime_api.h>

#include <cstddef>
#include <utility>
#include <vector>

#include "core/error.h"
#include "kernels/cuda/check.h"

namespace thaw::cuda {

template <typename T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(size_t count) : count_(count) {
    if (count_ > 0) {
      void* p = nullptr;
      THAW_CUDA_CHECK_CTX(cudaMalloc(&p, count_ * sizeof(T)), cat_str(count_ * sizeof(T), " bytes"));
      ptr_ = static_cast<T*>(p);
    }
  }
  ~DeviceBuffer() { reset(); }

  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& o) noexcept : ptr_(std::exchange(o.ptr_, nullptr)), count_(std::exchange(o.count_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      reset();
      ptr_ = std::exchange(o.ptr_, nullptr);
      count_ = std::exchange(o.count_, 0);
    }
    return *this;
  }

  T* data() { return ptr_; }
  const T* data() const { return ptr_; }
  size_t size() const { return count_; }
  size_t bytes() const { return count_ * sizeof(T); }
  bool empty() const { return count_ == 0; }

  void upload(const T* host, size_t count, cudaStream_t stream) {
    THAW_CHECK(count <= count_, "upload of ", count, " elements into a buffer of ", count_);
    if (count == 0) return;
    THAW_CUDA_CHECK(cudaMemcpyAsync(ptr_, host, count * sizeof(T), cudaMemcpyHostToDevice, stream));
    THAW_CUDA_CHECK(cudaStreamSynchronize(stream));
  }
  void upload(const std::vector<T>& host, cudaStream_t stream) { upload(host.data(), host.size(), stream); }

  void download(T* host, size_t count, cudaStream_t stream) const {
    THAW_CHECK(count <= count_, "download of ", count, " elements from a buffer of ", count_);
    if (count == 0) return;
    THAW_CUDA_CHECK(cudaMemcpyAsync(host, ptr_, count * sizeof(T), cudaMemcpyDeviceToHost, stream));
    THAW_CUDA_CHECK(cudaStreamSynchronize(stream));
  }
  std::vector<T> download(cudaStream_t stream) const {
    std::vector<T> host(count_);
    download(host.data(), count_, stream);
    return host;
  }

  // Every byte set to `value` (0 for zeros; 0xFF makes float NaNs, to prove an output is written).
  void fill_bytes(int value, cudaStream_t stream) {
    if (count_ > 0) THAW_CUDA_CHECK(cudaMemsetAsync(ptr_, value, bytes(), stream));
  }

 private:
  void reset() {
    if (ptr_) THAW_CUDA_LOG(cudaFree(ptr_));
    ptr_ = nullptr;
    count_ = 0;
  }

  T* ptr_ = nullptr;
  size_t count_ = 0;
};

}  // namespace thaw::cuda
