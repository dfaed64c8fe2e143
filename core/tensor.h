#pragma once
// A dense, contiguous, row-major host tensor. Activations are NCHW, conv weights OIHW,
// linear weights [out, in], exactly as PyTorch lays them out, so safetensors files map 1:1.
#include <cstdint>
#include <numeric>
#include <span>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

namespace thaw {

using Shape = std::vector<int64_t>;

inline int64_t shape_numel(const Shape& s) {
  return std::accumulate(s.begin(), s.end(), int64_t{1}, [](int64_t a, int64_t b) { return a * b; });
}

std::string shape_str(const Shape& s);  // "[2, 3, 299, 299]"

// Leaves new elements of a vector uninitialised when it grows without a value (resize(n)), so that
// reshape_uninit does not write every activation buffer twice; explicit values (Tensor(shape, fill))
// are still written.
template <typename T>
struct UninitAllocator : std::allocator<T> {
  using value_type = T;
  template <typename U>
  struct rebind {
    using other = UninitAllocator<U>;
  };
  UninitAllocator() = default;
  template <typename U>
  UninitAllocator(const UninitAllocator<U>&) noexcept {}
  template <typename U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

template <typename T>
class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(Shape shape, T fill = T{0}) : shape_(std::move(shape)), data_(shape_numel(shape_), fill) {}

  const Shape& shape() const { return shape_; }
  size_t rank() const { return shape_.size(); }
  int64_t dim(size_t i) const { return shape_.at(i); }
  int64_t numel() const { return static_cast<int64_t>(data_.size()); }
  bool empty() const { return data_.empty(); }

  T* data() { return data_.data(); }
  const T* data() const { return data_.data(); }
  std::span<T> span() { return data_; }
  std::span<const T> span() const { return data_; }
  T& operator[](int64_t i) { return data_[static_cast<size_t>(i)]; }
  const T& operator[](int64_t i) const { return data_[static_cast<size_t>(i)]; }

  void fill(T v) { std::fill(data_.begin(), data_.end(), v); }
  // Reallocates only when the element count grows; contents are unspecified afterwards.
  void reshape_uninit(Shape shape) {
    shape_ = std::move(shape);
    data_.resize(static_cast<size_t>(shape_numel(shape_)));
  }
  // Frees the storage (used to drop activations as soon as no consumer needs them).
  void release() {
    shape_.clear();
    std::vector<T, UninitAllocator<T>>().swap(data_);
  }

 private:
  Shape shape_;
  std::vector<T, UninitAllocator<T>> data_;
};

}  // namespace thaw
