#pragma once
// Where host memory for data the device will read comes from. The CPU build uses plain aligned
// memory; a CUDA build can hand the batch loader page-locked memory (kernels/cuda/pinned_host.h),
// which the driver copies to the device faster and asynchronously. The loader sees only this
// interface, so the engine never depends on CUDA for it.
#include <cstddef>
#include <cstdint>
#include <new>
#include <string>

namespace thaw {

class HostAllocator {
 public:
  virtual ~HostAllocator() = default;
  // At least 64-byte aligned; throws (std::bad_alloc or a library error) rather than return null.
  virtual void* allocate(size_t bytes) = 0;
  virtual void deallocate(void* p, size_t bytes) noexcept = 0;
  virtual std::string name() const = 0;
};

// Plain heap memory, 64-byte aligned (a cache line, and enough for every vector width used).
class PlainHostAllocator final : public HostAllocator {
 public:
  void* allocate(size_t bytes) override { return ::operator new(bytes, std::align_val_t{64}); }
  void deallocate(void* p, size_t /*bytes*/) noexcept override { ::operator delete(p, std::align_val_t{64}); }
  std::string name() const override { return "plain"; }
};

// One allocation, returned to its allocator when the buffer goes away.
class HostBuffer {
 public:
  HostBuffer() = default;
  HostBuffer(HostAllocator& a, size_t bytes) : alloc_(&a), bytes_(bytes), p_(bytes ? a.allocate(bytes) : nullptr) {}
  ~HostBuffer() { reset(); }
  HostBuffer(HostBuffer&& o) noexcept : alloc_(o.alloc_), bytes_(o.bytes_), p_(o.p_) { o.p_ = nullptr; o.bytes_ = 0; }
  HostBuffer& operator=(HostBuffer&& o) noexcept {
    if (this != &o) {
      reset();
      alloc_ = o.alloc_;
      bytes_ = o.bytes_;
      p_ = o.p_;
      o.p_ = nullptr;
      o.bytes_ = 0;
    }
    return *this;
  }
  HostBuffer(const HostBuffer&) = delete;
  HostBuffer& operator=(const HostBuffer&) = delete;

  void* data() const { return p_; }
  size_t bytes() const { return bytes_; }
  template <typename T>
  T* as() const {
    return static_cast<T*>(p_);
  }

 private:
  void reset() noexcept {
    if (p_) alloc_->deallocate(p_, bytes_);
    p_ = nullptr;
    bytes_ = 0;
  }
  HostAllocator* alloc_ = nullptr;
  size_t bytes_ = 0;
  void* p_ = nullptr;
};

}  // namespace thaw
