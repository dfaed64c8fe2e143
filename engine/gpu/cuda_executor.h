#pragma once
// The GPU twin of engine/model/executor.h, fp32 NCHW: the same Plan, the same Phase semantics and the
// same freezing rules (frozen nodes run as inference and keep nothing, no gradient flows into the
// boundary, every output is dead after its last reader), on the ops of kernels/cuda/.
//
// Memory: the state_dict values (parameters and running statistics) and the trainable gradients
// live on the device for the executor's lifetime, each in one allocation; the trainable tensors
// come first in the values, in plan order, at the same offsets as in the gradients, so that an
// optimizer can treat them as one span. Every per-step temporary sits in one arena laid out by
// StepMemoryPlan, allocated on the first step of a batch size and reused by every later step: a
// step allocates nothing (cuDNN workspace and op scratch grow inside the Context on first use).
//
// Only built with CUDA (THAW_HAVE_CUDA).
#if THAW_HAVE_CUDA

#include <cstdint>
#include <memory>
#include <vector>

#include "engine/gpu/buffer_plan.h"
#include "engine/model/executor.h"
#include "engine/model/model_state.h"
#include "graph/graph.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/device_buffer.h"
#include "kernels/cuda/output_mode.h"

namespace thaw {

class CudaExecutor {
 public:
  // Uploads every value of `state`; the state is not referenced afterwards (download() copies back).
  CudaExecutor(cuda::Context& ctx, const Graph& g, const Plan& plan, const ModelState<float>& state);
  CudaExecutor(const CudaExecutor&) = delete;
  CudaExecutor& operator=(const CudaExecutor&) = delete;

  // x: device [batch, 3, H, W], normalised. When the stem trains, backward reads x again, so it must
  // stay unchanged until backward() returns. Returns the device logits [batch, K], valid until the
  // next forward. In Phase::Train, trainable batch norms (policy Train) use batch statistics and
  // move their running statistics.
  const float* forward(const float* x, int64_t batch, Phase phase, const StepKey& key = {});
  // Softmax cross-entropy of the last forward's logits against device labels [batch]; keeps d loss /
  // d logits for backward(). Waits for the stream (the loss comes back to the host).
  double loss(const int32_t* labels, double label_smoothing = 0.0, const float* class_weights = nullptr);
  // Gradients of the trainable tensors (overwritten) from the gradient loss() kept, or from device
  // dlogits [batch, K].
  void backward();
  void backward(const float* dlogits);

  // Copies to the host (each waits for the stream).
  std::vector<float> logits_to_host();
  std::vector<float> grad_to_host(int tensor);  // a trainable tensor's gradient
  // Between forward and backward, for tests: an output or a max-pool argmax that backward will read
  // (trainable ReLU outputs, inputs of trainable conv / batch norm / linear, trainable max-pool
  // choices). Anything else may already be overwritten, and asking for it is an InternalError.
  std::vector<float> output_to_host(int node);
  std::vector<int32_t> argmax_to_host(int node);
  void download(ModelState<float>& state);      // every value and num_batches_tracked
  void upload(const ModelState<float>& state);

  // The trainable tensors as one span of floats, identically laid out in values and gradients (the
  // gaps between tensors are zeros that stay zero under any elementwise optimizer).
  float* trainable_values() { return values_.data(); }
  const float* trainable_grads() const { return grads_.data(); }
  float* trainable_grads() { return grads_.data(); }  // the GPU train step writes the shards' scaled sum
  int64_t trainable_span() const { return trainable_span_; }
  // Offset of a trainable tensor inside that span (in floats), -1 for others.
  int64_t trainable_offset(int tensor) const { return grad_offset_[tensor]; }

  const Graph& graph() const { return g_; }
  const Plan& plan() const { return plan_; }
  cuda::Context& context() { return ctx_; }
  int64_t batch() const { return batch_; }
  // Device bytes held: values, gradients, the step arena and the logits' gradient.
  int64_t device_bytes() const;
  int64_t arena_bytes() const { return static_cast<int64_t>(arena_.bytes()); }

 private:
  void prepare(int64_t batch);
  void forward_node(int i, Phase phase, const StepKey& key);
  void backward_node(int i);
  // Where node `node`'s backward adds the gradient of its input `which`, or null where none flows
  // (frozen input, image). The first writer of a step may overwrite when its op can (`mode` non-null
  // then says which); otherwise the buffer is zeroed before its first use.
  float* grad_target(int node, int which, cuda::OutputMode* mode);
  float* out(int node);
  float* dout(int node);
  template <typename T>
  T* arena_at(StepBufferKind kind, int node);
  // The (kind, node) buffer, checked to be still live after the forward.
  const StepBuffer& kept_after_forward(StepBufferKind kind, int node) const;
  float* param(int node, int k) { return values_.data() + value_offset_[g_.nodes[node].tensors[k]]; }
  float* grad(int node, int k) { return grads_.data() + grad_offset_[g_.nodes[node].tensors[k]]; }

  cuda::Context& ctx_;
  const Graph& g_;
  Plan plan_;
  std::vector<int64_t> value_offset_;  // per Graph::tensors entry, in floats; -1 for num_batches_tracked
  std::vector<int64_t> grad_offset_;   // per Graph::tensors entry, -1 unless trainable
  int64_t trainable_span_ = 0;
  std::vector<int64_t> batches_tracked_;
  cuda::DeviceBuffer<float> values_, grads_;

  int64_t batch_ = 0;
  std::unique_ptr<StepMemoryPlan> mem_;
  cuda::DeviceBuffer<unsigned char> arena_;
  cuda::DeviceBuffer<float> dlogits_;
  const float* input_ = nullptr;
  const float* dlogits_in_ = nullptr;  // the gradient backward starts from
  bool loss_ready_ = false;
  bool forward_train_ = false;  // the last forward ran in Phase::Train
  std::vector<char> grad_started_;  // per node: its output gradient was written this backward
  std::vector<uint8_t> host_mask_;
};

}  // namespace thaw

#endif  // THAW_HAVE_CUDA
