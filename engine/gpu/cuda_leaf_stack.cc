#include "engine/gpu/cuda_leaf_stack.h"

#if THAW_HAVE_CUDA

#include "core/error.h"
#include "engine/parallel/tree_reduce.h"
#include "kernels/cuda/accumulate.h"
#include "kernels/cuda/check.h"

namespace thaw {

size_t CudaLeafStack::free_buffer() {
  std::vector<char> used(buffers_.size(), 0);
  for (const Partial& p : stack_) used[p.buffer] = 1;
  size_t free = 0;
  while (free < buffers_.size() && used[free]) ++free;
  if (free == buffers_.size()) buffers_.emplace_back(static_cast<size_t>(count_));
  return free;
}

void CudaLeafStack::push(const float* leaf) {
  ++leaves_;
  if (stack_.empty() || stack_.back().level != 0) {
    // No single leaf on the left to pair with yet: the leaf waits in a buffer of its own.
    const size_t b = free_buffer();
    if (count_ > 0) {
      THAW_CUDA_CHECK(cudaMemcpyAsync(buffers_[b].data(), leaf, static_cast<size_t>(count_) * sizeof(float),
                                      cudaMemcpyDeviceToDevice, ctx_.stream()));
    }
    stack_.push_back({0, b});
    return;
  }
  // LeafStack's first addition (left leaf += new leaf), taken straight from the leaf.
  cuda::accumulate(ctx_, count_, leaf, buffers_[stack_.back().buffer].data());
  stack_.back().level = 1;
  while (stack_.size() >= 2 && stack_[stack_.size() - 1].level == stack_[stack_.size() - 2].level) {
    const Partial right = stack_.back();
    stack_.pop_back();
    Partial& left = stack_.back();
    cuda::accumulate(ctx_, count_, buffers_[right.buffer].data(), buffers_[left.buffer].data());
    ++left.level;
  }
}

float* CudaLeafStack::result() {
  THAW_CHECK(stack_.size() == 1 && is_power_of_two(leaves_), "a subtree sum after ", leaves_, " leaves (",
             stack_.size(), " partial sums)");
  float* out = buffers_[stack_.back().buffer].data();
  stack_.clear();
  leaves_ = 0;
  return out;
}

int64_t CudaLeafStack::device_bytes() const {
  int64_t n = 0;
  for (const auto& b : buffers_) n += static_cast<int64_t>(b.bytes());
  return n;
}

}  // namespace thaw

#endif  // THAW_HAVE_CUDA
