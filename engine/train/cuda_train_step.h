#pragma once
// The GPU twin of TrainStep::run (engine/train/train_step.h) for one rank: forward, loss, backward and
// update of a global batch on the device (engine/gpu/cuda_executor.h), with the CPU step's semantics:
//
// - V virtual shards, of which this rank (of N, TrainConfig::gpu_comm) runs its V/N one after
//   another, each a batch of its own for batch norm; the shard gradients are summed in the same
//   fixed binary tree as the CPU's LeafStack (engine/gpu/cuda_leaf_stack.h: elementwise adds, no
//   atomics), the N ranks' subtree sums combined by the top of that tree on the GPUs
//   (tree_allreduce_bucket over the GPU comm), and scaled by 1/V (exact, V a power of two); the
//   loss is the same tree over the shard losses (double, on the host) / V. The bits depend on V,
//   not N. With N > 1 the reduction overlaps the last local shard's backward, as on the CPU
//   (engine/parallel/grad_buckets.h): when a bucket's tensors have their gradients queued, its
//   range is folded into the subtree sum on the compute stream, an event is recorded, and the
//   bucket thread waits for that event and reduces the bucket on the comm's stream while the
//   compute stream goes on with the earlier layers.
// - With V > 1, batch-norm running statistics advance once per shard, in shard order, after the
//   last shard: each shard's forward leaves its batch mean and unbiased variance in its shard
//   record (with its loss), the records of all V shards are gathered to every rank, and each
//   applies the CPU's update (kernels/cuda/bn_running.h) shard by shard. With V = 1 the kernel
//   moves them inside forward.
// - Dropout masks are keyed like the CPU's: (seed, step, global batch position).
// - The update is CudaOptimizer (engine/gpu/cuda_optimizer.h): SGD or AdamW, the CPU's per-element
//   formulas and roundings. With V = 1 and one rank it is queued behind the backward before the
//   host has the loss, and a device flag skips it where the loss is not finite or a label is bad
//   (the CPU's step never updates then); with V > 1 the host reads the V losses first. Such a step
//   can also be captured into one CUDA graph and launched whole (TrainConfig::gpu_graph,
//   engine/train/cuda_train_step_graph.cc).
//
// run() leaves the host copies alone. sync_params() brings the trainable tensors' values and
// gradients to the host (two copies of the trainable span into pinned memory, which params() points
// into: the run record hashes them after every step; begin_sync_params() starts them on a stream of
// their own, behind the next forward pass); sync_state() brings everything (every value of
// the ModelState, the gradients into the host optimizer's view, the optimizer's state) for a
// checkpoint, evaluation or the end of training. The loop's next batch (stage()) moves to the device
// while this step works (engine/gpu/batch_uploads.h). With TrainConfig::cache_train and a boundary to
// cache at, the frozen part's output of each sample is kept in device memory
// (engine/gpu/gpu_feature_cache.h) and a batch whose every sample is held skips the pixels' upload
// and the frozen part.
//
// Only built with CUDA (THAW_HAVE_CUDA).
#if THAW_HAVE_CUDA

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "engine/gpu/batch_uploads.h"
#include "engine/gpu/cuda_executor.h"
#include "engine/gpu/cuda_inference.h"
#include "engine/gpu/cuda_leaf_stack.h"
#include "engine/gpu/gpu_feature_cache.h"
#include "engine/gpu/cuda_optimizer.h"
#include "engine/train/step_runner.h"
#include "engine/train/train_config.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/device_buffer.h"
#include "kernels/cuda/dropout.h"
#include "kernels/cuda/event.h"
#include "kernels/cuda/graph.h"
#include "kernels/cuda/pinned_host.h"
#include "kernels/cuda/stream.h"
#include "engine/parallel/grad_buckets.h"

namespace thaw {

class CudaTrainStep final : public StepRunner {
 public:
  // Opens GPU cfg.gpu and uploads `state`. More than one rank needs cfg.gpu_comm; the shards are
  // validated as on the CPU (UserError naming --shards).
  CudaTrainStep(const Graph& g, const Plan& plan, ModelState<float>& state, const TrainConfig& cfg);
  ~CudaTrainStep() override;

  double run(const StepBatch& batch, int64_t step, double lr) override;
  double run_overlapping(const StepBatch& batch, int64_t step, double lr,
                         const std::function<void()>& meanwhile) override;
  bool overlaps_host() const override { return true; }
  // The next batch's pixels into pinned memory and on to the device on a stream of their own,
  // behind this step's work (engine/gpu/batch_uploads.h); nothing where the cache holds its samples.
  void stage(const StepBatch& next) override;
  // The host copy: a resumed run restores into it before the first run(), which then uploads it.
  Optimizer<float>& optimizer() override { return host_opt_; }
  // Into the pinned download of sync_params() (or sync_state()).
  std::span<const ParamRef<float>> params() const override { return observed_; }
  void sync_params() override;
  // Queues the download of the trainable values and gradients on a stream of its own, after this
  // step's update; the next run()'s backward waits for it before it writes a gradient, so the
  // download runs beside the next forward pass instead of before it.
  void begin_sync_params() override;
  void sync_state() override;
  const ShardLayout& layout() const override { return layout_; }
  std::string cache_report() const override { return cache_ ? cache_->report() : std::string(); }
  // Held-out evaluation on this step's GPU and stream (engine/gpu/cuda_inference.h), from `state`
  // (the host copy: the loop calls sync_state() before each evaluation).
  LogitsForward* inference(const ModelState<float>& state) override;
  std::vector<std::string> plan_choices() const override { return ctx_->plans().identities(); }

  CudaExecutor& executor() { return *exec_; }
  const CudaOptimizer& device_optimizer() const { return *opt_; }
  // TrainConfig::gpu_graph: the steps captured so far that are still in use (one per batch buffer).
  int captured_graphs() const { return static_cast<int>(graphs_.size()); }
  int captures() const { return captures_; }  // every capture so far, the dropped graphs' too
  cuda::Context& context() { return *ctx_; }

 private:
  // The batch's labels, and its pixels unless the cache holds every sample: pixels_, shard j's rows
  // [starts[j], starts[j] + shard_rows) from uploads_->layout().offsets[j].
  void upload_batch(const StepBatch& batch, const std::vector<int64_t>& starts, int64_t shard_rows);
  // Shard j: rows [start, start + rows) of the batch, from pixels_; its loss is
  // left in shard_losses_[j].
  void shard(size_t j, int64_t start, int64_t rows, int64_t step);
  // Shard j's forward: from the pixels (keeping the boundary rows in the cache), or from the cache.
  void shard_forward(size_t j, int64_t start, int64_t rows, const StepKey& key);
  // The shards' losses, brought to the host in one wait, their labels checked.
  std::vector<double> shard_losses(const std::vector<int64_t>& starts, int64_t rows);
  // One shard, one rank: the update queued behind the backward, skipped on the device where the
  // loss is not finite or a label is bad; the host then waits once, for the loss. Returns it.
  double update_then_wait(const std::vector<int64_t>& starts, int64_t rows, int64_t step, double lr,
                          const std::function<void()>& meanwhile);
  // Both ways' end: meanwhile, then the one wait for the loss; a skipped update is taken back from
  // the optimizer's count, and a non-finite loss outside a range test is the divergence error.
  double finish_update(const std::vector<int64_t>& starts, int64_t rows, int64_t step,
                       const std::function<void()>& meanwhile);
  // TrainConfig::gpu_graph (engine/train/cuda_train_step_graph.cc): one shard, one rank, no feature
  // cache, no profile, no failed capture, and a step already run op by op by this object (it builds
  // the plans and sizes every buffer; a resumed run's optimizer count says nothing of that) and
  // counted (SGD's first update is another kernel).
  bool graph_eligible() const;
  // The step as a CUDA graph: this step's dropout key and learning-rate scalars copied into device
  // memory, then the graph captured for this batch buffer (the first time) and launched.
  double run_captured(const std::vector<int64_t>& starts, int64_t rows, int64_t step, double lr,
                      const std::function<void()>& meanwhile);
  // A capture that failed (`why`): its host-side counting undone (num_batches_tracked back to
  // `tracked`, the optimizer's step), graphs off for good, and this step run op by op.
  double run_uncaptured(const std::vector<int64_t>& starts, int64_t rows, int64_t step, double lr,
                        const std::function<void()>& meanwhile, const std::vector<int64_t>& tracked,
                        const std::string& why);
  // V > 1: the shard records (engine/train/cuda_train_step.h) and the gradient sum over every rank;
  // returns all V shards' losses.
  void plan_records(const Plan& plan);
  void plan_buckets(const Plan& plan);
  char* record(int64_t shard) { return reinterpret_cast<char*>(records_.data()) + shard * record_bytes_; }
  std::vector<double> reduce_shards(const std::vector<int64_t>& starts, int64_t rows, int64_t step);
  // The last local shard with N > 1: its backward folds and posts the buckets as they complete.
  void last_shard_reducing(size_t j, int64_t start, int64_t rows, int64_t step, BucketReducer& reducer);
  void apply_bn_statistics();
  // f's GPU time under `what` in the executor's profile, when one is set (engine/model/step_profile.h).
  template <typename F>
  void timed_other(const char* what, const F& f) {
    if (!exec_->profile()) {
      f();
      return;
    }
    const int from = exec_->profile_mark();
    f();
    exec_->profile_other(what, from, exec_->profile_mark());
  }

  const Graph& g_;
  const TrainConfig& cfg_;
  ModelState<float>& state_;
  ShardLayout layout_;
  std::unique_ptr<cuda::Context> ctx_;
  std::unique_ptr<CudaExecutor> exec_;
  std::unique_ptr<CudaOptimizer> opt_;
  std::vector<Tensor<float>> host_grads_;  // per Graph::tensors entry; allocated for trainable ones
  Optimizer<float> host_opt_;
  std::unique_ptr<CudaLeafStack> leaves_;
  std::unique_ptr<CudaInference> inference_;
  std::unique_ptr<GpuFeatureCache> cache_;  // null: no cache
  std::span<const int64_t> samples_;        // this run()'s rows' samples
  bool from_cache_ = false;                 // this run() reads every shard from the cache
  // Downloads of the trainable span: values, then gradients; observed_ points into it.
  cuda::PinnedArray<float> host_span_;
  std::vector<ParamRef<float>> observed_;
  // begin_sync_params' copies (declared after host_span_: the stream is gone, and its copies done,
  // before the memory they write).
  cuda::Stream downloads_;
  cuda::Event updated_{false}, downloaded_{false};
  bool download_pending_ = false;  // the host has not waited for the last begun download
  bool guard_backward_ = false;    // the next backward waits for it
  std::unique_ptr<BatchUploads> uploads_;
  const float* pixels_ = nullptr;  // this run()'s batch on the device (uploads_)
  cuda::DeviceBuffer<float> class_weights_;
  cuda::DeviceBuffer<int32_t> labels_;
  cuda::DeviceBuffer<double> shard_losses_;
  cuda::DeviceBuffer<int> bad_rows_;
  // One shard, one rank: the update is queued right behind the backward, before the host has the
  // loss, and this device flag (a non-finite loss or a bad label) makes it a no-op.
  cuda::DeviceBuffer<int32_t> skip_update_;
  // TrainConfig::gpu_graph: a captured step per pixel buffer (the two upload sides), each with what
  // its capture advanced on the host (num_batches_tracked), for every launch after. All are dropped
  // when the batch size or the Context's generation (its areas and plans) changes.
  struct StepGraph {
    const float* pixels = nullptr;
    cuda::CapturedGraph graph;
    std::vector<int64_t> tracked;
  };
  std::vector<StepGraph> graphs_;
  int64_t graph_rows_ = 0, graph_generation_ = -1;
  bool capturing_ = false;  // shard() waits for the last download through a graph node
  bool warmed_ = false;     // this object has run a step op by op (plans built, buffers sized)
  bool graph_failed_ = false;  // a capture failed: every step runs op by op from then on
  int captures_ = 0;
  cuda::PinnedArray<cuda::DeviceStepKey> step_key_host_;
  cuda::DeviceBuffer<cuda::DeviceStepKey> step_key_;
  Comm* gpu_comm_ = nullptr;  // null with one rank
  // Shard records (V > 1): per shard, its loss (double), then each trainable batch norm's batch
  // mean and unbiased variance (bn_at_ floats after the loss), all V on every rank.
  std::vector<int> bn_nodes_;
  std::vector<int64_t> bn_at_;
  int64_t record_bytes_ = 0;
  cuda::DeviceBuffer<double> records_;
  // The overlapped reduction (N > 1): buckets of the trainable span, an event per bucket.
  std::unique_ptr<GradientBuckets> buckets_;
  std::vector<std::unique_ptr<cuda::Event>> bucket_events_;
  bool uploaded_optimizer_ = false;
};

}  // namespace thaw

#endif  // THAW_HAVE_CUDA
