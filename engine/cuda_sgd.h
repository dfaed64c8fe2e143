#pragma once
// SGD with momentum on the device, over a CudaExecutor's trainable tensors: the same semantics and
// per-element roundings as Optimizer<float> (engine/optimizer.h), so that from the same gradients
// it gives the same bits. The momentum buffer mirrors the executor's trainable span; weight decay
// applies to conv and linear weights only (timm's default), as train() sets it on the CPU.
//
// Only built with CUDA (THAW_HAVE_CUDA).
#if THAW_HAVE_CUDA

#include <cstdint>
#include <vector>

#include "engine/cuda_decay_ranges.h"
#include "engine/cuda_executor.h"
#include "engine/optimizer.h"
#include "kernels/cuda/device_buffer.h"

namespace thaw {

class CudaSgd {
 public:
  // A UserError names --optimizer for anything but SGD (AdamW is not on the device yet).
  CudaSgd(CudaExecutor& exec, const OptimizerConfig& config);

  // One update of every trainable tensor from the executor's current gradients.
  void step(double lr);
  int64_t step_count() const { return step_count_; }
  int64_t device_bytes() const { return static_cast<int64_t>(momentum_.bytes()); }
  // The momentum buffer of a trainable tensor (empty without momentum).
  std::vector<float> momentum_to_host(int tensor);

 private:
  CudaExecutor& exec_;
  OptimizerConfig config_;
  std::vector<DecayRange> ranges_;
  cuda::DeviceBuffer<float> momentum_;
  int64_t step_count_ = 0;
};

}  // namespace thaw

#endif  // THAW_HAVE_CUDA
