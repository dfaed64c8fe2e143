#pragma once
// Runs a graph forward and backward on the CPU following a plan: frozen nodes as inference
// (running statistics, nothing kept), trainable nodes with the activations their backward needs.
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "core/tensor.h"
#include "engine/model/model_state.h"
#include "engine/model/plan.h"
#include "engine/model/step_profile.h"
#include "graph/graph.h"

namespace thaw {

enum class Phase { Train, Eval };

// Identifies a step for the randomness inside the network (dropout): the mask of sample s of the
// batch depends on (seed, step, sample_offset + s) only.
struct StepKey {
  uint64_t seed = 0;
  int64_t step = 0;
  int64_t sample_offset = 0;
};

template <typename T>
class Executor {
 public:
  Executor(const Graph& g, const Plan& plan, ModelState<T>& state);

  // x: [N, 3, H, W] normalised. Returns the logits [N, K]. In Phase::Train, trainable batch norms
  // (policy Train) use batch statistics and move their running statistics.
  const Tensor<T>& forward(const Tensor<T>& x, Phase phase, const StepKey& key = {});
  // Gradient of the loss w.r.t. the logits in; gradients of the trainable tensors out (overwritten).
  void backward(const Tensor<T>& dlogits);

  // The feature cache's two halves of forward (engine/infer/feature_cache.h). forward_until runs the
  // nodes up to `node` on pixels x and returns node's output [N, ...]; forward_from takes that
  // output (the boundary activations) and runs the nodes after `node`, returning the logits;
  // backward may follow. Every node after `node` must read only `node` or later nodes. For a node
  // whose part is frozen, the two together compute what forward computes, bit for bit.
  const Tensor<T>& forward_until(const Tensor<T>& x, int node, Phase phase);
  const Tensor<T>& forward_from(int node, const Tensor<T>& activations, Phase phase, const StepKey& key = {});

  // Off (the default): training batch norms move their running statistics inside forward. On:
  // they leave them (and num_batches_tracked) alone and keep the batch's mean and unbiased
  // variance per channel, rounded to T, in bn_batch_mean/bn_batch_var(node), for a caller that
  // applies them itself (the virtual shards of engine/train/train_step.h, in shard order).
  void set_collect_bn_stats(bool on) { collect_bn_stats_ = on; }
  const Tensor<T>& bn_batch_mean(int node) const { return bn_batch_mean_[node]; }
  const Tensor<T>& bn_batch_var(int node) const { return bn_batch_var_[node]; }

  // Called in backward with each trainable tensor (Graph::tensors index) as soon as its gradient
  // is final, once per backward, last nodes first: for a caller that ships gradients while the
  // earlier layers' backward goes on (engine/parallel/grad_buckets.h). Empty: nobody is told.
  void set_grad_ready(std::function<void(int tensor)> ready) { grad_ready_ = std::move(ready); }

  // On: the bf16 rule of engine/model/mixed_precision.h, emulated in fp32 arithmetic (every value
  // the rule stores as bf16 is rounded to it where the GPU step stores it). Executor<float> only.
  // The bf16 copies of frozen weights are made at their first forward and kept: frozen tensors of
  // the state must not change under the executor (trainable ones are copied at every forward).
  void set_bf16(bool on);
  bool bf16() const { return bf16_; }

  // Non-null: every op's time is added to `profile` (engine/model/step_profile.h), host clock.
  void set_profile(StepProfile* profile) { profile_ = profile; }

  // Per Graph::tensors index; allocated only for the plan's trainable tensors.
  const std::vector<Tensor<T>>& grads() const { return grads_; }
  std::vector<Tensor<T>>& grads() { return grads_; }
  const Tensor<T>& output(int node) const { return out_[node]; }
  const Plan& plan() const { return plan_; }

 private:
  void forward_node(int i, Phase phase, const StepKey& key);
  void forward_nodes(int first, int last, Phase phase, const StepKey& key);  // forward's loop over [first, last]
  void forward_op(int i, Phase phase, const StepKey& key);  // the op itself, without the bf16 rule's rounding
  void backward_node(int i);
  void backward_op(int i);
  void tell_grads_ready(int node);
  Tensor<T>* grad_of_input(int node, int which);  // null when no gradient flows into that input
  T* param(int node, int k) { return state_.values[g_.nodes[node].tensors[k]].data(); }
  // A learnable tensor as the op's arithmetic reads it: the master value, or under the bf16 rule
  // the working copy that refresh_working_copies made for a Conv or Linear node.
  const T* operand(int node, int k);
  void refresh_working_copies(int node);
  void round_after_forward(int node);
  void round_after_backward(int node);
  // Runs f, adding its time to the profile when there is one.
  template <typename F>
  void timed(int node, ProfilePart part, const F& f);
  // A conv's or linear's input gradient added into dx by add_into (which adds into its argument).
  template <typename F>
  void add_input_grad(Tensor<T>& dx, const F& add_into);

  const Graph& g_;
  Plan plan_;
  ModelState<T>& state_;
  int64_t batch_ = 0;
  std::vector<Tensor<T>> out_;
  std::vector<Tensor<T>> dout_;
  std::vector<Tensor<T>> grads_;
  std::vector<std::vector<int32_t>> argmax_;
  std::vector<std::vector<uint8_t>> keep_mask_;
  std::vector<Tensor<T>> bn_mean_, bn_invstd_;
  bool collect_bn_stats_ = false;
  std::vector<Tensor<T>> bn_batch_mean_, bn_batch_var_;
  std::function<void(int)> grad_ready_;
  bool bf16_ = false;
  // A batch norm and its ReLU in one pass (fuses_relu): the ReLU's output is already written
  // (engine/model/executor_fused.cc), into its concatenation's channel slice where that is its
  // only reader and no backward needs it (concat_taking_in_place).
  void forward_bn(int node, bool train, T* y, bool relu, int64_t y_stride);
  bool fuses_relu(int node, Phase phase) const;
  int concat_taking_in_place(int relu, Phase phase) const;  // -1: none
  void forward_bn_relu(int node, Phase phase);
  void forward_concat(int node);
  int forward_last_ = 0;            // the last node the running forward computes
  std::vector<char> relu_written_;  // per node
  std::vector<char> in_concat_;     // per node: its output was written into its concatenation's slice
  StepProfile* profile_ = nullptr;
  std::vector<Tensor<T>> working_;  // per Graph::tensors index: bf16 working copies (bf16_ only)
};

}  // namespace thaw
