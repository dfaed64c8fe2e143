#pragma once
// SGD (momentum, Nesterov, weight decay) and AdamW on the device, over a CudaExecutor's trainable
// span: the same semantics and per-element roundings as Optimizer<float> (engine/optim/optimizer.h), so
// that from the same gradients it gives the same bits (kernels/cuda/sgd.h, kernels/cuda/adamw.h).
// Its state mirrors the executor's trainable span (zero gaps included, which stay zero). A host
// Optimizer<float> over the same tensors is the checkpointable copy: to_host() fills its state and
// step count, from_host() takes them (a resumed run), so checkpoints are the CPU's format.
//
// Only built with CUDA (THAW_HAVE_CUDA).
#if THAW_HAVE_CUDA

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "engine/gpu/cuda_executor.h"
#include "engine/optim/optimizer.h"
#include "kernels/cuda/adamw.h"
#include "kernels/cuda/device_buffer.h"
#include "kernels/cuda/pinned_host.h"
#include "kernels/cuda/sgd.h"

namespace thaw {

class CudaOptimizer {
 public:
  CudaOptimizer(CudaExecutor& exec, const OptimizerConfig& config);

  // One update of every trainable tensor from the executor's current gradients (queued on the
  // executor's stream). lr < 0 or NaN is a UserError naming --lr, as on the CPU. `skip` (a device
  // flag, kernels/cuda/loss.h step_skip_flag): the kernels leave everything as it was where it is
  // nonzero when they run; the caller, once it has read the loss, calls forget_step() for such a
  // step, so that the step count is the CPU's (which never takes that step).
  void step(double lr, const int32_t* skip = nullptr);
  void forget_step() { --step_count_; }
  // step() in two halves, for a step captured into a CUDA graph once and launched at every step
  // after it: prepare() counts the step and copies its learning-rate scalars into device memory
  // (queued on the stream, outside the graph); queue_prepared() queues the kernels, which read the
  // scalars there when they run (SgdScalars::neg_lr_at, AdamWScalars::step_at). Not for the first
  // SGD step with momentum, whose kernel differs.
  void prepare(double lr);
  void queue_prepared(const int32_t* skip);
  int64_t step_count() const { return step_count_; }
  const OptimizerConfig& config() const { return config_; }

  // `host` holds the executor's trainable tensors in plan order, named as the graph names them
  // (trainable_param_refs); its state and step count become this optimizer's, or the reverse.
  void to_host(Optimizer<float>& host);
  void from_host(const Optimizer<float>& host);

  int64_t device_bytes() const { return static_cast<int64_t>(state_a_.bytes() + state_b_.bytes()); }

 private:
  // The host optimizer's state `suffix` of a trainable tensor, checked to fit the trainable span.
  template <typename Span>
  Span state_of(const std::map<std::string, Span>& spans, int tensor, const char* suffix) const;
  // The state buffers and the names the host optimizer gives them ("momentum_buffer", ...).
  std::vector<std::pair<cuda::DeviceBuffer<float>*, const char*>> buffers();

  // The trainable span cut into runs of consecutive tensors that share a weight-decay flag (decay
  // on conv and linear weights only, timm's default, as on the CPU), so that a step launches one
  // kernel per run instead of one per tensor. Each tensor's run reaches the next one's start: the
  // zero gaps between tensors are covered too, and stay zero (a zero value, gradient and state
  // give a zero update).
  struct DecayRange {
    int64_t begin, count;  // in floats, inside the trainable span
    bool decay;
  };
  static std::vector<DecayRange> decay_ranges(const CudaExecutor& exec, bool any_decay);

  // One step's scalars, as the CPU rounds them; advance() also counts the step.
  struct StepScalars {
    cuda::SgdScalars sgd;
    cuda::AdamWScalars adamw;
  };
  StepScalars advance(double lr);
  // `at`: the scalars' device copy (prepare()), or null to pass them by value.
  void queue(StepScalars s, const int32_t* skip, const float* at);

  CudaExecutor& exec_;
  OptimizerConfig config_;
  std::vector<DecayRange> ranges_;
  // SGD: a is the momentum buffer (empty without momentum). AdamW: a is exp_avg, b exp_avg_sq.
  cuda::DeviceBuffer<float> state_a_, state_b_;
  int64_t step_count_ = 0;
  StepScalars prepared_;
  cuda::PinnedArray<float> host_scalars_;  // prepare()'s scalars, on their way to device_scalars_
  cuda::DeviceBuffer<float> device_scalars_;
};

}  // namespace thaw

#endif  // THAW_HAVE_CUDA
