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

float* CudaLeafStack::fold(const float* leaf, int64_t lo, int64_t hi) {
  THAW_CHECK(0 <= lo && lo <= hi && hi <= count_, "fold [", lo, ", ", hi, ") of a leaf of ", count_);
  if (fold_chain_.empty()) {
    // push()'s chain for this leaf: into the single leaf on its left, that pair into the partial
    // sum on its left while it covers a subtree of the same size, ...; alone, a copy.
    if (stack_.empty()) {
      fold_chain_.push_back(free_buffer());
    } else {
      THAW_CHECK(stack_.back().level == 0, "fold: leaf ", leaves_ + 1, " does not complete the subtree");
      size_t k = stack_.size() - 1;
      fold_chain_.push_back(stack_[k].buffer);
      for (int level = 1; k > 0 && stack_[k - 1].level == level; ++level) fold_chain_.push_back(stack_[--k].buffer);
      THAW_CHECK(k == 0, "fold: leaf ", leaves_ + 1, " does not complete the subtree");
    }
    folded_ = 0;
  }
  const int64_t n = hi - lo;
  if (n > 0 && stack_.empty()) {
    THAW_CUDA_CHECK(cudaMemcpyAsync(buffers_[fold_chain_[0]].data() + lo, leaf + lo, static_cast<size_t>(n) * sizeof(float),
                                    cudaMemcpyDeviceToDevice, ctx_.stream()));
  } else if (n > 0) {
    cuda::accumulate(ctx_, n, leaf + lo, buffers_[fold_chain_[0]].data() + lo);
    for (size_t i = 1; i < fold_chain_.size(); ++i) {
      cuda::accumulate(ctx_, n, buffers_[fold_chain_[i - 1]].data() + lo, buffers_[fold_chain_[i]].data() + lo);
    }
  }
  folded_ += n;
  return buffers_[fold_chain_.back()].data();
}

void CudaLeafStack::end_folded_leaf() {
  THAW_CHECK(!fold_chain_.empty() && folded_ == count_, "end_folded_leaf after ", folded_, " of ", count_,
             " elements folded");
  ++leaves_;
  if (stack_.empty()) {
    stack_.push_back({0, fold_chain_[0]});
  } else {
    stack_.back().level = 1;
    while (stack_.size() >= 2 && stack_[stack_.size() - 1].level == stack_[stack_.size() - 2].level) {
      stack_.pop_back();
      ++stack_.back().level;
    }
  }
  fold_chain_.clear();
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
