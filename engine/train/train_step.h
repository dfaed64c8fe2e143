#pragma once
// One optimizer step over a global batch: forward, loss, backward, update. The trainer's loop
// decides which samples and which learning rate; this decides how the gradient is computed. It is
// the unit that data parallelism cuts into virtual shards and that the feature cache feeds with
// boundary activations instead of pixels.
//
// With V virtual shards (TrainConfig::shards) and N ranks (TrainConfig::comm), this rank runs its
// V/N shards one after another (engine/parallel/shards.h): each shard is a batch of its own for batch
// norm, its loss is the mean over the shard, its gradient that loss's. The step's gradient is
// (1/V) x the fixed-tree sum of the V shard gradients (engine/parallel/tree_reduce.h), its loss the same
// tree over the shard losses / V, and the running statistics of batch norm advance once per
// shard, in shard order, from every shard's statistics gathered to every rank. The reduction
// across ranks runs in buckets while the last local shard's backward goes on
// (engine/parallel/grad_buckets.h). So every rank
// applies the same update to the same parameters, and the bits depend on V, never on N.
// V = 1 is the plain single-batch step (running statistics move inside forward).
#include <cstdint>
#include <span>
#include <vector>

#include "core/tensor.h"
#include "engine/parallel/comm.h"
#include "engine/model/executor.h"
#include "engine/parallel/grad_buckets.h"
#include "engine/model/model_state.h"
#include "engine/optim/optimizer.h"
#include "engine/model/plan.h"
#include "engine/parallel/shards.h"
#include "engine/train/trainer.h"
#include "engine/parallel/tree_reduce.h"
#include "graph/graph.h"

namespace thaw {

struct StepBatch {
  const Tensor<float>* x = nullptr;  // [rows, 3, H, W] normalised pixels
  std::span<const int32_t> labels;   // one per row
  // Batch position of x's first row: 0 with the whole global batch, or layout().first_sample()
  // when this rank is given only its own shards' samples.
  int64_t first = 0;
  // Feature cache (engine/infer/feature_cache.h): >= 0 when x holds the outputs of this node, the frozen
  // part's boundary, [rows, C, H, W], instead of pixels; the step then runs the nodes after it.
  int boundary = -1;
  // The samples of x's rows (LoadedBatch::indices): the GPU step's feature cache keys
  // (engine/gpu/gpu_feature_cache.h). Empty: unknown, nothing is cached.
  std::span<const int64_t> samples;
  // The loop handed this batch to StepRunner::stage during the step before, and has not touched it
  // since: a GPU step finds its pixels already on their way to the device.
  bool staged = false;
};

// The error for a non-finite step loss (both devices' steps), naming --lr.
[[noreturn]] void fail_diverged(int64_t step, double loss, double lr);

class TrainStep {
 public:
  // Validates the shards against the batch, the ranks and the plan (UserError naming --shards).
  TrainStep(const Graph& g, const Plan& plan, ModelState<float>& state, const TrainConfig& cfg);

  // Mean loss of the batch (before the update); the weights are updated with learning rate lr.
  // A non-finite loss is a UserError naming --lr, raised on every rank before any weight changes.
  double run(const StepBatch& batch, int64_t step, double lr);

  Optimizer<float>& optimizer() { return opt_; }
  std::span<const ParamRef<float>> params() const { return opt_.params(); }
  // Which batch positions this rank computes.
  const ShardLayout& layout() const { return layout_; }

 private:
  double run_single(const StepBatch& batch, int64_t step, double lr);
  double shard_loss(const Tensor<float>& x, std::span<const int32_t> labels, int64_t step, int64_t shard);
  void write_shard_record(int64_t local_shard, double loss);
  void backward_into_leaf();
  void backward_reducing(int64_t step, BucketReducer& reducer);
  void apply_bn_statistics();

  const Graph& g_;
  const TrainConfig& cfg_;
  ModelState<float>& state_;
  SelfComm self_;
  Comm& comm_;
  ShardLayout layout_;
  Executor<float> exec_;
  Optimizer<float> opt_;
  Tensor<float> dlogits_;
  int boundary_ = -1;  // the running batch's StepBatch::boundary
  Tensor<float> shard_x_;
  std::vector<int> bn_nodes_;  // batch norms on batch statistics, node order (V > 1)
  int64_t bn_channels_ = 0;    // their channels, summed
  size_t record_bytes_ = 0;    // per shard: loss (double), then each node's mean and variance
  std::vector<char> mine_, all_;
  LeafStack leaves_;
  GradientBuckets buckets_;
};

}  // namespace thaw
