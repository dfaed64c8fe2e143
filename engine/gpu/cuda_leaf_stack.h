#pragma once
// The device twin of LeafStack (engine/parallel/tree_reduce.h): a rank's virtual-shard gradients summed as
// they come, in the one fixed binary tree over the shards. Each addition is one IEEE single
// addition of the same two partial sums as on the CPU (kernels/cuda/accumulate.h, elementwise, no
// atomics), so from the same leaves the bits are the CPU's.
//
// Only built with CUDA (THAW_HAVE_CUDA).
#if THAW_HAVE_CUDA

#include <cstdint>
#include <vector>

#include "kernels/cuda/context.h"
#include "kernels/cuda/device_buffer.h"

namespace thaw {

class CudaLeafStack {
 public:
  CudaLeafStack(cuda::Context& ctx, int64_t count) : ctx_(ctx), count_(count) {}

  // Takes the next leaf: `count` device floats, read by work queued on the context's stream (so
  // the caller may overwrite them with later work on that stream).
  void push(const float* leaf);
  // The sum after a power-of-two number of leaves; valid until the next push. Starts a new tree.
  float* result();
  // The leaf that completes the subtree, taken in pieces while backward still writes the rest of it
  // (the overlapped reduction): fold(leaf, lo, hi) queues push(leaf)'s additions for elements
  // [lo, hi) only, the same pairs in the same order, and returns the buffer that holds the subtree
  // sum, final in [lo, hi) once the queued work has run. When the pieces have covered every element
  // once, end_folded_leaf() closes the leaf as push() would, adding nothing.
  float* fold(const float* leaf, int64_t lo, int64_t hi);
  void end_folded_leaf();
  int64_t count() const { return count_; }
  int64_t device_bytes() const;

 private:
  struct Partial {
    int level = 0;
    size_t buffer = 0;
  };
  size_t free_buffer();

  cuda::Context& ctx_;
  int64_t count_;
  std::vector<cuda::DeviceBuffer<float>> buffers_;  // reused from step to step
  std::vector<Partial> stack_;
  int64_t leaves_ = 0;
  std::vector<size_t> fold_chain_;  // the buffers the folded leaf's additions go into, in order
  int64_t folded_ = 0;
};

}  // namespace thaw

#endif  // THAW_HAVE_CUDA
