#pragma once
// The feature cache of the GPU step (engine/train/cuda_train_step.h), in device memory: each
// training sample's activations at the boundary (the last frozen node, cache_boundary of
// engine/infer/feature_cache.h) as the step's own forward left them, in the activations' storage
// type (bf16 under the bf16 rule), so that later epochs run only the trainable part. A row is
// taken from the same forward that trains on it, at the training batch's shard size, so it holds
// the bits that forward computes; a run with the cache gives the same bits as one without it as
// long as each frozen op computes a sample independently of the others in its batch (the CPU's rule
// too, engine/infer/feature_cache.h), which the GPU test (tests/cuda/gpu_feature_cache_test.cc)
// checks for cuDNN's engines. Only used where a sample's pixels are the same every epoch
// (TrainConfig::cache_train). Samples past the budget are never held.
//
// Only built with CUDA (THAW_HAVE_CUDA).
#if THAW_HAVE_CUDA

#include <cuda_runtime_api.h>

#include <cstdint>
#include <span>
#include <string>

#include "engine/gpu/cache_slots.h"
#include "kernels/cuda/device_buffer.h"

namespace thaw {

class GpuFeatureCache {
 public:
  // row_bytes: one sample's boundary activations; budget_bytes: the most the store may take.
  GpuFeatureCache(int boundary, int64_t row_bytes, int64_t budget_bytes);
  int boundary() const { return boundary_; }
  bool holds(std::span<const int64_t> samples) const { return slots_.holds_all(samples); }
  // After a forward: rows [i] of `rows` (device, row_bytes each) kept for samples[i] not yet held,
  // while there is room.
  void store(std::span<const int64_t> samples, const void* rows, cudaStream_t stream);
  // Before a forward from the boundary: every sample's row into `rows` (all must be held).
  void gather(std::span<const int64_t> samples, void* rows, cudaStream_t stream);
  // "N samples computed, M reused; X MiB in GPU memory"
  std::string report() const;

 private:
  int boundary_;
  int64_t row_bytes_;
  CacheSlots slots_;
  cuda::DeviceBuffer<unsigned char> store_;  // allocated at the first store
  int64_t computed_ = 0, reused_ = 0;
};

}  // namespace thaw

#endif  // THAW_HAVE_CUDA
