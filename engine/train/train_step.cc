#include "engine/train/train_step.h"

#include <cmath>
#include <cstring>

#include "core/error.h"
#include "engine/optim/param_refs.h"
#include "engine/train/grad_ready_scope.h"
#include "graph/node_geometry.h"
#include "kernels/cpu/bn_running.h"
#include "kernels/cpu/loss.h"

namespace thaw {

namespace {

int64_t trainable_floats(std::span<const ParamRef<float>> params) {
  int64_t n = 0;
  for (const ParamRef<float>& p : params) n += p.size;
  return n;
}

std::vector<int64_t> tensor_sizes(std::span<const ParamRef<float>> params) {
  std::vector<int64_t> out;
  for (const ParamRef<float>& p : params) out.push_back(p.size);
  return out;
}

}  // namespace

[[noreturn]] void fail_diverged(int64_t step, double loss, double lr) {
  fail_user("training diverged at step ", step, " (loss ", loss, "); lower --lr (now ", lr, ")");
}

TrainStep::TrainStep(const Graph& g, const Plan& plan, ModelState<float>& state, const TrainConfig& cfg)
    : g_(g),
      cfg_(cfg),
      state_(state),
      comm_(cfg.comm ? *cfg.comm : static_cast<Comm&>(self_)),
      exec_(g, plan, state),
      opt_(cfg.optimizer, trainable_param_refs(g, plan, state, exec_)),
      leaves_(static_cast<size_t>(trainable_floats(opt_.params()))),
      buckets_(exec_.plan().trainable_tensors, tensor_sizes(opt_.params()),
               cfg.gradient_bucket_floats > 0 ? static_cast<size_t>(cfg.gradient_bucket_floats) : kOverlapBucketFloats) {
  layout_.batch = cfg.batch_size;
  layout_.shards = cfg.shards;
  layout_.ranks = comm_.size();
  layout_.rank = comm_.rank();
  THAW_CHECK(cfg.ranks == comm_.size(), "the run has ", cfg.ranks, " ranks, its comm ", comm_.size());
  THAW_CHECK(comm_.kind() != "nccl", "the CPU step exchanges host memory, not a GPU's");
  validate_shards(layout_, g, plan);
  exec_.set_bf16(cfg.bf16());
  if (layout_.shards == 1) return;
  exec_.set_collect_bn_stats(true);
  if (plan.bn == BnPolicy::Train) {
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      if (g.nodes[i].kind == OpKind::BatchNorm && plan.trainable[i]) {
        bn_nodes_.push_back(static_cast<int>(i));
        bn_channels_ += g.nodes[i].out[0];
      }
    }
  }
  record_bytes_ = sizeof(double) + 2 * static_cast<size_t>(bn_channels_) * sizeof(float);
  mine_.resize(record_bytes_ * static_cast<size_t>(layout_.shards_per_rank()));
  all_.resize(record_bytes_ * static_cast<size_t>(layout_.shards));
}

double TrainStep::run_single(const StepBatch& batch, int64_t step, double lr) {
  const double loss = shard_loss(*batch.x, batch.labels, step, 0);
  if (!std::isfinite(loss)) {
    if (cfg_.stop_on_divergence > 0) return loss;  // a range test ends here (engine/train/trainer.cc)
    fail_diverged(step, loss, cfg_.schedule.base_lr);
  }
  exec_.backward(dlogits_);
  opt_.step(lr);
  return loss;
}

double TrainStep::shard_loss(const Tensor<float>& x, std::span<const int32_t> labels, int64_t step, int64_t shard) {
  const int64_t n = x.shape()[0];
  THAW_CHECK(static_cast<int64_t>(labels.size()) == n, "labels do not match the batch");
  // Dropout masks are keyed by the global batch position: the same mask whoever runs the shard.
  const StepKey key{cfg_.seed, step, shard * layout_.shard_size()};
  const Tensor<float>& logits =
      boundary_ >= 0 ? exec_.forward_from(boundary_, x, Phase::Train, key) : exec_.forward(x, Phase::Train, key);
  dlogits_.reshape_uninit(logits.shape());
  const float* weights = cfg_.class_weights.empty() ? nullptr : cfg_.class_weights.data();
  return cpu::softmax_cross_entropy<float>(n, g_.num_classes, logits.data(), labels.data(), cfg_.label_smoothing,
                                           weights, dlogits_.data());
}

void TrainStep::write_shard_record(int64_t local_shard, double loss) {
  char* rec = mine_.data() + static_cast<size_t>(local_shard) * record_bytes_;
  std::memcpy(rec, &loss, sizeof loss);
  auto* stats = reinterpret_cast<float*>(rec + sizeof(double));
  for (int node : bn_nodes_) {
    const int64_t c = g_.nodes[node].out[0];
    std::memcpy(stats, exec_.bn_batch_mean(node).data(), static_cast<size_t>(c) * sizeof(float));
    std::memcpy(stats + c, exec_.bn_batch_var(node).data(), static_cast<size_t>(c) * sizeof(float));
    stats += 2 * c;
  }
}

void TrainStep::backward_into_leaf() {
  exec_.backward(dlogits_);
  float* leaf = leaves_.begin_leaf();
  for (int t : exec_.plan().trainable_tensors) {
    const Tensor<float>& grad = exec_.grads()[t];
    std::memcpy(leaf, grad.data(), static_cast<size_t>(grad.numel()) * sizeof(float));
    leaf += grad.numel();
  }
  leaves_.end_leaf();
}

void TrainStep::backward_reducing(int64_t step, BucketReducer& reducer) {
  float* leaf = leaves_.begin_leaf();
  buckets_.reset();
  const std::vector<Tensor<float>>& grads = exec_.grads();
  // Backward tells each tensor's final gradient: into the leaf; a complete bucket into the
  // subtree sum, then across ranks while backward goes on.
  const GradReadyScope<Executor<float>> scope(exec_, [&](int t) {
    const Tensor<float>& grad = grads[static_cast<size_t>(t)];
    std::memcpy(leaf + buckets_.offset(t), grad.data(), static_cast<size_t>(grad.numel()) * sizeof(float));
    const int b = buckets_.ready(t);
    if (b < 0) return;
    const GradientBuckets::Bucket& bucket = buckets_[static_cast<size_t>(b)];
    float* sum = leaves_.fold(bucket.lo, bucket.hi);
    reducer.post(sum + bucket.lo, bucket.hi - bucket.lo,
                 cat_str("gradients at step ", step, " (bucket ", b + 1, " of ", buckets_.size(), ")"));
  });
  exec_.backward(dlogits_);
  leaves_.end_folded_leaf();
}

void TrainStep::apply_bn_statistics() {
  for (int64_t s = 0; s < layout_.shards; ++s) {
    const auto* stats = reinterpret_cast<const float*>(all_.data() + static_cast<size_t>(s) * record_bytes_ +
                                                       sizeof(double));
    for (int node : bn_nodes_) {
      const Node& n = g_.nodes[node];
      const int64_t c = n.out[0];
      const double m = bn_geom(n, 1).momentum;
      float* mean = state_.values[n.tensors[2]].data();
      float* var = state_.values[n.tensors[3]].data();
      cpu::bn_running_update(c, m, stats, stats + c, mean, var);
      ++state_.batches_tracked[n.tensors[4]];
      stats += 2 * c;
    }
  }
}

double TrainStep::run(const StepBatch& batch, int64_t step, double lr) {
  boundary_ = batch.boundary;
  const int64_t rows = batch.x->shape()[0];
  THAW_CHECK(static_cast<int64_t>(batch.labels.size()) == rows, "labels do not match the batch");
  const std::vector<int64_t> starts = shard_starts(layout_, batch.first, rows);
  if (layout_.shards == 1) return run_single(batch, step, lr);

  const int64_t b = layout_.shard_size();
  const int64_t per_row = batch.x->numel() / rows;
  Shape shape = batch.x->shape();
  shape[0] = b;
  BucketReducer reducer(comm_);
  for (int64_t j = 0; j < layout_.shards_per_rank(); ++j) {
    const int64_t shard = layout_.first_shard() + j;
    const int64_t row = starts[static_cast<size_t>(j)];
    shard_x_.reshape_uninit(shape);
    std::memcpy(shard_x_.data(), batch.x->data() + row * per_row, static_cast<size_t>(b * per_row) * sizeof(float));
    const double loss = shard_loss(shard_x_, batch.labels.subspan(static_cast<size_t>(row), static_cast<size_t>(b)),
                                   step, shard);
    write_shard_record(j, loss);
    // The last shard completes the rank's subtree: its buckets go across ranks as they come.
    if (j + 1 < layout_.shards_per_rank()) {
      backward_into_leaf();
    } else {
      backward_reducing(step, reducer);
    }
  }
  reducer.finish();  // the sum over all V shards, every bucket; the comm is this thread's again

  // Every shard's loss and batch statistics to every rank, in shard order.
  all_gather(comm_, mine_.data(), all_.data(), mine_.size(), cat_str("shard losses at step ", step));
  std::vector<double> losses(static_cast<size_t>(layout_.shards));
  for (int64_t s = 0; s < layout_.shards; ++s) {
    std::memcpy(&losses[static_cast<size_t>(s)], all_.data() + static_cast<size_t>(s) * record_bytes_, sizeof(double));
  }
  const double loss = tree_sum(losses) / static_cast<double>(layout_.shards);
  if (!std::isfinite(loss)) {
    if (cfg_.stop_on_divergence > 0) return loss;  // no update, no batch statistics: the range test ends
    fail_diverged(step, loss, cfg_.schedule.base_lr);
  }

  float* sum = leaves_.result();
  // 1/V is a power of two: the scaling is exact.
  const float scale = 1.0f / static_cast<float>(layout_.shards);
  std::vector<Tensor<float>>& grads = exec_.grads();
  const float* from = sum;
  for (int t : exec_.plan().trainable_tensors) {
    float* g = grads[t].data();
    for (int64_t i = 0; i < grads[t].numel(); ++i) g[i] = from[i] * scale;
    from += grads[t].numel();
  }
  apply_bn_statistics();
  opt_.step(lr);
  return loss;
}

}  // namespace thaw
