#pragma once
// The GPU twin of engine/model/executor.h, NCHW, in fp32 or under the bf16 rule of
// engine/model/mixed_precision.h (bf16 activations and activation gradients in the arena, bf16
// working copies of the conv and linear weights refreshed from the fp32 masters at each forward;
// the classifier computes in fp32 from bf16 values, its results rounded): the same Plan, the same
// Phase semantics and the same freezing rules (frozen nodes run as inference and keep nothing, no gradient flows into the
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
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "engine/gpu/buffer_plan.h"
#include "engine/gpu/op_fusions.h"
#include "engine/model/executor.h"
#include "engine/model/model_state.h"
#include "engine/model/step_profile.h"
#include "graph/graph.h"
#include "kernels/cuda/concat.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/device_buffer.h"
#include "kernels/cuda/dropout.h"
#include "kernels/cuda/event_timeline.h"
#include "kernels/cuda/layout.h"
#include "kernels/cuda/output_mode.h"
#include "kernels/cuda/storage.h"
#include "kernels/geometry.h"

namespace thaw {

class CudaExecutor {
 public:
  // Uploads every value of `state`; the state is not referenced afterwards (download() copies back).
  // bf16: the bf16 rule (the CPU twin is Executor<float>::set_bf16).
  CudaExecutor(cuda::Context& ctx, const Graph& g, const Plan& plan, const ModelState<float>& state,
               bool bf16 = false);
  CudaExecutor(const CudaExecutor&) = delete;
  CudaExecutor& operator=(const CudaExecutor&) = delete;

  // x: device [batch, 3, H, W], normalised (fp32; under the bf16 rule rounded into a copy). When
  // the stem trains, backward reads x again, so it must stay unchanged until backward() returns.
  // Returns the device logits [batch, K] in fp32 (under the bf16 rule: bf16 values), valid until
  // the next forward. In Phase::Train, trainable batch norms (policy Train) use batch statistics and
  // move their running statistics.
  const float* forward(const float* x, int64_t batch, Phase phase, const StepKey& key = {});
  // The GPU feature cache (engine/gpu/gpu_feature_cache.h). boundary_rows: node's output buffer
  // for `batch` rows (activations' storage type, activation_row_bytes each): fill it, then
  // forward_from runs only the nodes after `node` (none of which may read before it), as the
  // CPU's Executor::forward_from. set_capture: during each later forward, `capture` is called with
  // node's output as soon as it is queued (null: none).
  void* boundary_rows(int node, int64_t batch);
  int64_t activation_row_bytes(int node) const;
  const float* forward_from(int node, int64_t batch, Phase phase, const StepKey& key = {});
  void set_capture(int node, std::function<void(const void* rows)> capture) {
    capture_at_ = node;
    capture_ = std::move(capture);
  }
  // Softmax cross-entropy of the last forward's logits against device labels [batch]; keeps d loss /
  // d logits for backward(). Waits for the stream (the loss comes back to the host).
  double loss(const int32_t* labels, double label_smoothing = 0.0, const float* class_weights = nullptr);
  // The same without waiting (kernels/cuda/loss.h, softmax_cross_entropy_async): the mean loss into
  // device `loss_out`, a label outside the classes into device `bad_row_out`.
  void loss_async(const int32_t* labels, double label_smoothing, const float* class_weights, double* loss_out,
                  int* bad_row_out);
  // Gradients of the trainable tensors (overwritten) from the gradient loss() kept, or from device
  // dlogits [batch, K] (fp32; rounded under the bf16 rule).
  void backward();
  void backward(const float* dlogits);
  // Called during backward, on the caller's thread, once per trainable tensor as soon as the work
  // that writes its final gradient is queued on the stream (for the overlapped reduction,
  // engine/train/cuda_train_step.h); null: none.
  void set_grad_ready(std::function<void(int tensor)> ready) { grad_ready_ = std::move(ready); }

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

  // Virtual shards (engine/train/cuda_train_step.h): with a sink, each trainable batch norm on batch
  // statistics leaves its running statistics alone and writes the batch's mean and unbiased
  // variance, rounded to float, to sink[node] (2 x channels floats: means, then variances), as
  // the CPU executor's set_collect_bn_stats; apply_bn_statistics then moves the running
  // statistics from them, one shard at a time. An empty sink: the running statistics move inside
  // forward (one shard).
  void set_bn_sink(std::vector<float*> per_node) { bn_sink_ = std::move(per_node); }
  // One shard's move of node's running statistics from `stats` (means, then variances).
  void apply_bn_statistics(int node, const float* stats);

  const Graph& graph() const { return g_; }
  const Plan& plan() const { return plan_; }
  cuda::Context& context() { return ctx_; }
  int64_t batch() const { return batch_; }
  bool bf16() const { return bf16_; }
  // The frozen part as inference (its branch ends written straight into their concatenations'
  // slices) and every trainable batch norm fused with its ReLU (engine/gpu/op_fusions.h): on by
  // default; off runs every batch norm, ReLU and concatenation as its own op (the CPU executor's
  // order of operations). Call before the first forward.
  void set_fold_frozen(bool on);
  int folded_convs() const;
  // Channels-last storage (engine/gpu/op_fusions.h ChannelsLast; kernels/cuda/channels_last.h,
  // kernels/cuda/layout.h): off by default until a GPU has measured it. `front`: the frozen front
  // only (needs folding); `all`: every activation and activation gradient, the trainable
  // convolutions reading [k, r, s, c] copies of their weights. Values, gradients, logits and what
  // output_to_host / argmax_to_host return keep their NCHW meaning either way; the feature cache's
  // boundary rows are stored as the executor stores them. Call before the first forward.
  // channels_last_end(): the front's last node, or -1 (also under `all`, which has no front).
  void set_channels_last(ChannelsLast scope);
  int channels_last_end() const { return cl_end_; }
  bool all_channels_last() const { return nhwc_all_; }
  // Each folded group's convolution, bias and ReLU as one cuDNN graph where an engine passes the
  // policy for it (kernels/cuda/conv2d.h conv2d_forward_bias_relu; its own bias + ReLU kernel where
  // none does): off by default until a GPU has measured it. fused_groups() counts the groups that
  // ran fused in the last forward.
  void set_fused_epilogue(bool on) { fused_epilogue_ = on; }
  // Non-null: dropout masks take their key from this device memory when they run, not from
  // forward()'s StepKey (a step captured into a CUDA graph, engine/train/cuda_train_step.h).
  void set_device_step_key(const cuda::DeviceStepKey* key) { device_key_ = key; }
  // Host-side counters a forward advances (batch norms' num_batches_tracked): a graph launched
  // again advances them by what its capture did.
  const std::vector<int64_t>& batches_tracked() const { return batches_tracked_; }
  void set_batches_tracked(const std::vector<int64_t>& counts) { batches_tracked_ = counts; }
  void advance_batches_tracked(const std::vector<int64_t>& by) {
    for (size_t t = 0; t < by.size() && t < batches_tracked_.size(); ++t) batches_tracked_[t] += by[t];
  }
  int fused_groups() const { return fused_groups_; }

  // Non-null: every op is bracketed by CUDA events (kernels/cuda/event_timeline.h) and, at
  // flush_profile() (which waits for the stream), its time goes into `profile`. profile_mark and
  // profile_other time work outside the nodes (the loss, the optimizer, uploads) the same way.
  void set_profile(StepProfile* profile);
  StepProfile* profile() const { return profile_; }
  int profile_mark();
  void profile_other(const std::string& what, int from_mark, int to_mark);
  void flush_profile();
  // Device bytes held: values, gradients, the step arena and the logits' gradient.
  int64_t device_bytes() const;
  int64_t arena_bytes() const { return static_cast<int64_t>(arena_.bytes()); }

 private:
  void prepare(int64_t batch);
  const float* forward_nodes(int first, Phase phase, const StepKey& key);  // nodes first.. to the logits
  void prepare_bf16(int64_t batch);
  void backward_from(const void* dlogits);  // dlogits of the activations' storage type
  const float* logits();                    // the last forward's logits in fp32
  // The node's op on activations of storage type S (float, or cuda::bf16 under the bf16 rule);
  // defined in cuda_executor_nodes.cc.
  template <typename S>
  void forward_node(int i, Phase phase, const StepKey& key);
  template <typename S>
  void backward_node(int i);
  template <typename S>
  void conv_backward(int i, const S* dy);
  // A folded conv-bn-relu group at conv node i: the conv with folded weights into the ReLU's
  // output (or its concatenation's slice, slots_), then bias + ReLU in place.
  template <typename S>
  void forward_folded(int i);
  // Node i of the channels-last front (a folded group at its convolution, a pool or a
  // concatenation), and the transpose of the front's last output into NCHW once it is written.
  template <typename S>
  void forward_front(int i);
  // Concatenation i's inputs for its forward: null for an input already in its slice (slots_).
  template <typename S>
  std::vector<cuda::ChannelSlice<const S>> concat_parts(int i);
  // Where a front node's op writes: the ChannelsLast buffer for the front's last node.
  template <typename S>
  S* front_out(int node);
  // Under ChannelsLast::all (cuda_executor_layout.cc): each convolution's [k, r, s, c] weight copy
  // made from the current values (the frozen ones once per upload), and a downloaded activation
  // of `node` (storage order) put back in NCHW order.
  void layout_channels_last();
  void refresh_krsc_weights();
  template <typename T>
  std::vector<T> to_nchw_order(int node, std::vector<T> stored) const;
  cuda::Layout layout() const { return nhwc_all_ ? cuda::Layout::nhwc : cuda::Layout::nchw; }
  bool image_channels_last() const { return cl_end_ >= 0 || nhwc_all_; }
  // A channels-last image stores cuda::pixel_channels of its channels (the rest zero), and a
  // convolution reading it, with zero filter taps there, reads that many: the same sums.
  int64_t image_channels_stored() const;
  ConvGeom conv_geom_at(int node) const;      // convolution `node` as it runs, at the current batch
  int64_t filter_channels_stored(int node) const;  // its [k, r, s, c] copies' c
  void prepare_folds();  // the folded weights and biases, from the current values
  // The classifier under the bf16 rule: fp32 arithmetic on the bf16 values, results rounded.
  void linear_forward_bf16(int i, const cuda::bf16* x, cuda::bf16* y);
  void linear_backward_bf16(int i, const cuda::bf16* x, const cuda::bf16* dy);
  void linear_backward_fp32(int i, const float* dy);
  static int64_t linear_scratch_floats(const LinearGeom& g);  // linear32_'s size for the classifier
  // Where node `node`'s backward adds the gradient of its input `which`, or null where none flows
  // (frozen input, image). The first writer of a step may overwrite when its op can (`mode` non-null
  // then says which); otherwise the buffer is zeroed before its first use.
  template <typename S>
  S* grad_target(int node, int which, cuda::OutputMode* mode);
  float* out(int node) { return out_as<float>(node); }
  template <typename S>
  S* out_as(int node);
  template <typename S>
  S* dout(int node);
  // A conv or linear weight operand as the op reads it: the master, or its bf16 working copy.
  template <typename S>
  const S* weight(int node, int k);
  void refresh_working_copies();
  std::vector<float> download_activations(const void* src, int64_t count, const char* what);
  template <typename T>
  T* arena_at(StepBufferKind kind, int node) {
    const int64_t off = mem_->offset(kind, node);
    THAW_CHECK(off >= 0, "no ", step_buffer_kind_name(kind), " buffer planned for node ", g_.nodes[node].name);
    return reinterpret_cast<T*>(arena_.data() + off);
  }
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
  const float* input_ = nullptr;  // null after forward_from: nothing reads the image then
  bool forward_ran_ = false;      // forward or forward_from ran at the current batch size
  const void* dlogits_in_ = nullptr;  // the gradient backward starts from (S of the activations)
  // The frozen part's folded groups: per node, and each folded conv's weights and bias.
  std::vector<char> folded_;
  std::vector<char> bn_relu_;  // per node: a trainable batch norm fused with its ReLU (fusable_bn_relu)
  std::vector<ConcatSlot> slots_;  // per node: a folded group's ReLU written into its concatenation
  bool channels_last_ = false;  // the front (ChannelsLast::front)
  bool nhwc_all_ = false;       // ChannelsLast::all
  std::vector<int64_t> krsc_at_;  // per node, in elements of the activations' type into krsc_; -1: none
  cuda::DeviceBuffer<unsigned char> krsc_;  // the convolutions' [k, r, s, c] weights under `all`
  cuda::DeviceBuffer<float> wgrad32_;       // an fp32 weight gradient in [k, r, s, c] under `all`
  bool krsc_frozen_ready_ = false;
  bool fused_epilogue_ = false;
  const cuda::DeviceStepKey* device_key_ = nullptr;
  int fused_groups_ = 0;
  int cl_end_ = -1;                             // the channels-last front's last node; -1: none
  cuda::DeviceBuffer<unsigned char> input_cl_;  // the image in NHWC, as S, for the front
  std::vector<int64_t> fold_w_at_, fold_b_at_;  // per node, in floats into fold_w_ / fold_b_; -1 elsewhere
  cuda::DeviceBuffer<float> fold_w_, fold_b_;
  cuda::DeviceBuffer<cuda::bf16> fold_w16_;
  bool folds_ready_ = false;
  // The bf16 rule's buffers (empty without it).
  bool bf16_ = false;
  int capture_at_ = -1;
  std::function<void(const void*)> capture_;
  bool frozen_copies_ready_ = false;             // the frozen weights' copies are made once per upload
  cuda::DeviceBuffer<cuda::bf16> working_;        // bf16 copies of values_, at the same offsets
  cuda::DeviceBuffer<cuda::bf16> input16_, dlogits16_, wgrad16_, linear16_;
  cuda::DeviceBuffer<float> logits32_, linear32_;
  bool loss_ready_ = false;
  bool forward_train_ = false;  // the last forward ran in Phase::Train
  std::vector<char> grad_started_;  // per node: its output gradient was written this backward
  std::vector<float*> bn_sink_;     // per node (set_bn_sink)
  std::function<void(int)> grad_ready_;
  // --profile: marks per op, read at flush_profile.
  struct PendingTime {
    int node;  // -1: other work, named by `what`
    ProfilePart part;
    std::string what;
    int from, to;
  };
  template <typename F>
  void timed(int node, ProfilePart part, const F& f);
  template <typename F>
  void timed_other(const char* what, const F& f);  // work outside the nodes, named
  StepProfile* profile_ = nullptr;
  std::unique_ptr<cuda::EventTimeline> timeline_;
  std::vector<PendingTime> pending_;
};

template <typename F>
void CudaExecutor::timed(int node, ProfilePart part, const F& f) {
  if (!profile_) {
    f();
    return;
  }
  const int from = timeline_->mark();
  f();
  pending_.push_back({node, part, {}, from, timeline_->mark()});
}

template <typename F>
void CudaExecutor::timed_other(const char* what, const F& f) {
  if (!profile_) {
    f();
    return;
  }
  const int from = timeline_->mark();
  f();
  pending_.push_back({-1, ProfilePart::Forward, what, from, timeline_->mark()});
}

}  // namespace thaw

#endif  // THAW_HAVE_CUDA
