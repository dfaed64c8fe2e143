#include "engine/train/cuda_train_step.h"

#if THAW_HAVE_CUDA

#include <cmath>
#include <map>
#include <string>
#include <utility>

#include "core/error.h"
#include "engine/infer/feature_cache.h"
#include "engine/train/grad_ready_scope.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/loss.h"
#include "engine/parallel/tree_reduce.h"
#include "kernels/cuda/scale.h"

namespace thaw {

namespace {

std::vector<Tensor<float>> gradient_tensors(const Graph& g, const Plan& plan) {
  std::vector<Tensor<float>> grads(g.tensors.size());
  for (int t : plan.trainable_tensors) grads[t] = Tensor<float>(g.tensors[t].shape);
  return grads;
}

// The host optimizer's view: values in the model state, gradients in host_grads (as
// trainable_param_refs names them for the CPU step, so checkpoints are the same files).
std::vector<ParamRef<float>> host_refs(const Graph& g, const Plan& plan, ModelState<float>& state,
                                       std::vector<Tensor<float>>& grads) {
  std::vector<ParamRef<float>> refs;
  for (int t : plan.trainable_tensors) {
    const TensorSpec& spec = g.tensors[t];
    refs.push_back({spec.name, state.values[t].data(), grads[t].data(), state.values[t].numel(),
                    spec.role == TensorRole::Weight});
  }
  return refs;
}

}  // namespace

CudaTrainStep::CudaTrainStep(const Graph& g, const Plan& plan, ModelState<float>& state, const TrainConfig& cfg)
    : g_(g),
      cfg_(cfg),
      state_(state),
      host_grads_(gradient_tensors(g, plan)),
      host_opt_(cfg.optimizer, host_refs(g, plan, state, host_grads_)) {
  if (cfg.ranks > 1) {
    THAW_CHECK(cfg.gpu_comm != nullptr && cfg.gpu_comm->size() == cfg.ranks,
               "GPU ranks need a GPU comm of ", cfg.ranks, " ranks");
    THAW_CHECK(cfg.comm != nullptr && cfg.comm->rank() == cfg.gpu_comm->rank(), "the host and GPU comms disagree");
    gpu_comm_ = cfg.gpu_comm;
  }
  layout_.batch = cfg.batch_size;
  layout_.shards = cfg.shards;
  layout_.ranks = cfg.ranks;
  layout_.rank = gpu_comm_ ? gpu_comm_->rank() : 0;
  validate_shards(layout_, g, plan);
  ctx_ = std::make_unique<cuda::Context>(cfg.gpu);
  ctx_->set_tf32(cfg.numerics == Numerics::Tf32);
  std::map<std::string, std::string> pins;
  for (const std::string& line : cfg.gpu_pins) {
    const size_t at = line.find(": ");
    if (at != std::string::npos) pins[line.substr(0, at)] = line.substr(at + 2);
  }
  ctx_->set_pins(std::move(pins));
  exec_ = std::make_unique<CudaExecutor>(*ctx_, g, plan, state, cfg.bf16());
  exec_->set_fold_frozen(cfg.gpu_fold_frozen);
  exec_->set_channels_last(cfg.gpu_channels_last);
  exec_->set_fused_epilogue(cfg.gpu_fused_epilogue);
  uploads_ = std::make_unique<BatchUploads>(*ctx_);
  opt_ = std::make_unique<CudaOptimizer>(*exec_, cfg.optimizer);
  skip_update_ = cuda::DeviceBuffer<int32_t>(1);
  const int64_t span = exec_->trainable_span();
  host_span_ = cuda::PinnedArray<float>(static_cast<size_t>(2 * span));
  // host_refs' order: the plan's trainable tensors.
  const std::span<const ParamRef<float>> refs = host_opt_.params();
  for (size_t i = 0; i < refs.size(); ++i) {
    const int64_t at = exec_->trainable_offset(plan.trainable_tensors[i]);
    observed_.push_back({refs[i].name, host_span_.data() + at, host_span_.data() + span + at, refs[i].size, refs[i].decay});
  }
  if (layout_.shards > 1) {
    leaves_ = std::make_unique<CudaLeafStack>(*ctx_, exec_->trainable_span());
    plan_records(plan);
  }
  if (gpu_comm_) plan_buckets(plan);
  const int boundary = cfg.cache_train ? cache_boundary(g, plan) : -1;
  if (boundary >= 0) {
    cache_ = std::make_unique<GpuFeatureCache>(boundary, exec_->activation_row_bytes(boundary), cfg.cache_memory_bytes);
  }
  if (!cfg.class_weights.empty()) {
    class_weights_ = cuda::DeviceBuffer<float>(cfg.class_weights.size());
    class_weights_.upload(cfg.class_weights, ctx_->stream());
  }
}

// Queued work reads the batch buffers: wait for it before they go.
CudaTrainStep::~CudaTrainStep() {
  try {
    if (ctx_) ctx_->synchronize("CudaTrainStep teardown");
    if (download_pending_) downloaded_.wait();
  } catch (const std::exception&) {  // a destructor must not throw; the error was raised before
  }
}

void CudaTrainStep::upload_batch(const StepBatch& batch, const std::vector<int64_t>& starts, int64_t shard_rows) {
  // Queued work of the previous step may still read the labels: finish it before they are replaced.
  if (labels_.size() < batch.labels.size()) {
    ctx_->synchronize("label buffer");
    labels_ = cuda::DeviceBuffer<int32_t>(batch.labels.size());
  }
  if (from_cache_) {
    uploads_->discard_staged();  // only the labels are needed
  } else {
    pixels_ = uploads_->take(*batch.x, starts, shard_rows, batch.staged);
  }
  labels_.upload(batch.labels.data(), batch.labels.size(), ctx_->stream());
}

void CudaTrainStep::stage(const StepBatch& next) {
  if (next.boundary >= 0 || next.x == nullptr) return;
  const int64_t rows = next.x->shape()[0];
  // The feature cache never lets a sample go: a batch it holds now, it holds at its step.
  if (cache_ && next.samples.size() == static_cast<size_t>(rows) && cache_->holds(next.samples)) return;
  uploads_->stage(*next.x, shard_starts(layout_, next.first, rows), layout_.shard_size());
}

void CudaTrainStep::plan_buckets(const Plan& plan) {
  // Each tensor with the gap after it, so that the buckets' ranges tile the span, at the executor's
  // offsets (GradientBuckets packs the sizes in plan order, the executor's order).
  const std::vector<int>& tensors = plan.trainable_tensors;
  std::vector<int64_t> sizes(tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const int64_t end = i + 1 < tensors.size() ? exec_->trainable_offset(tensors[i + 1]) : exec_->trainable_span();
    sizes[i] = end - exec_->trainable_offset(tensors[i]);
  }
  const size_t floats =
      cfg_.gradient_bucket_floats > 0 ? static_cast<size_t>(cfg_.gradient_bucket_floats) : kOverlapBucketFloats;
  buckets_ = std::make_unique<GradientBuckets>(tensors, sizes, floats);
  for (int t : tensors) {
    THAW_CHECK(static_cast<int64_t>(buckets_->offset(t)) == exec_->trainable_offset(t), "bucket offsets of ",
               g_.tensors[t].name, " differ from the executor's");
  }
  for (size_t b = 0; b < buckets_->size(); ++b) bucket_events_.push_back(std::make_unique<cuda::Event>(false));
}

void CudaTrainStep::last_shard_reducing(size_t j, int64_t start, int64_t rows, int64_t step, BucketReducer& reducer) {
  buckets_->reset();
  const int device = cfg_.gpu;
  const GradReadyScope<CudaExecutor> scope(*exec_, [&](int t) {
    const int b = buckets_->ready(t);
    if (b < 0) return;
    const GradientBuckets::Bucket& bucket = (*buckets_)[static_cast<size_t>(b)];
    const auto lo = static_cast<int64_t>(bucket.lo), hi = static_cast<int64_t>(bucket.hi);
    float* sum = leaves_->fold(exec_->trainable_grads(), lo, hi);
    cuda::Event& ready = *bucket_events_[static_cast<size_t>(b)];
    ready.record(ctx_->stream());
    reducer.post(sum + lo, static_cast<size_t>(hi - lo),
                 cat_str("gradients at step ", step, " (bucket ", b + 1, " of ", buckets_->size(), ")"), [&ready, device] {
                   THAW_CUDA_CHECK(cudaSetDevice(device));
                   ready.wait();
                 });
  });
  shard(j, start, rows, step);
  leaves_->end_folded_leaf();
}

void CudaTrainStep::plan_records(const Plan& plan) {
  int64_t floats = 0;
  std::vector<float*> none(g_.nodes.size(), nullptr);
  if (plan.bn == BnPolicy::Train) {
    for (size_t i = 0; i < g_.nodes.size(); ++i) {
      if (g_.nodes[i].kind != OpKind::BatchNorm || !plan.trainable[i]) continue;
      bn_nodes_.push_back(static_cast<int>(i));
      bn_at_.push_back(floats);
      floats += 2 * g_.nodes[i].out[0];
    }
  }
  // A whole number of doubles, so that every record's loss is aligned.
  record_bytes_ = static_cast<int64_t>(sizeof(double)) + (floats + 1) / 2 * static_cast<int64_t>(sizeof(double));
  records_ = cuda::DeviceBuffer<double>(static_cast<size_t>(layout_.shards * record_bytes_) / sizeof(double));
  exec_->set_bn_sink(none);  // every forward from now on collects, never moves, the statistics
}

void CudaTrainStep::shard(size_t j, int64_t start, int64_t rows, int64_t step) {
  const int64_t global = layout_.first_shard() + static_cast<int64_t>(j);
  double* loss_out = shard_losses_.data() + j;
  if (layout_.shards > 1) {
    std::vector<float*> sink(g_.nodes.size(), nullptr);
    auto* stats = reinterpret_cast<float*>(record(global) + sizeof(double));
    for (size_t k = 0; k < bn_nodes_.size(); ++k) sink[static_cast<size_t>(bn_nodes_[k])] = stats + bn_at_[k];
    exec_->set_bn_sink(std::move(sink));
    loss_out = reinterpret_cast<double*>(record(global));
  }
  // Dropout masks are keyed by the global batch position, as on the CPU.
  shard_forward(j, start, rows, StepKey{cfg_.seed, step, global * layout_.shard_size()});
  // The last step's values and gradients may still be on their way to the host: nothing writes
  // them before that download is done.
  if (capturing_) {
    downloaded_.order_before_in_graph(ctx_->stream());  // every launch waits for the download then begun
  } else if (std::exchange(guard_backward_, false)) {
    downloaded_.order_before(ctx_->stream());
  }
  // The loss stays on the device until every shard has run: one wait per step, not per shard.
  timed_other("loss", [&] {
    exec_->loss_async(labels_.data() + start, cfg_.label_smoothing,
                      class_weights_.empty() ? nullptr : class_weights_.data(), loss_out, bad_rows_.data() + j);
  });
  exec_->backward();
}

void CudaTrainStep::shard_forward(size_t j, int64_t start, int64_t rows, const StepKey& key) {
  if (!cache_ || samples_.empty()) {
    exec_->forward(pixels_ + uploads_->layout().offsets[j], rows, Phase::Train, key);
    return;
  }
  const std::span<const int64_t> mine = samples_.subspan(static_cast<size_t>(start), static_cast<size_t>(rows));
  const int boundary = cache_->boundary();
  if (from_cache_) {
    cache_->gather(mine, exec_->boundary_rows(boundary, rows), ctx_->stream());
    exec_->forward_from(boundary, rows, Phase::Train, key);
    return;
  }
  exec_->set_capture(boundary, [&](const void* at) { cache_->store(mine, at, ctx_->stream()); });
  exec_->forward(pixels_ + uploads_->layout().offsets[j], rows, Phase::Train, key);
  exec_->set_capture(-1, nullptr);
}

std::vector<double> CudaTrainStep::shard_losses(const std::vector<int64_t>& starts, int64_t rows) {
  std::vector<double> losses(layout_.shards > 1 ? 0 : starts.size());
  std::vector<int> bad(starts.size());
  if (!losses.empty()) {
    THAW_CUDA_CHECK(cudaMemcpyAsync(losses.data(), shard_losses_.data(), losses.size() * sizeof(double),
                                    cudaMemcpyDeviceToHost, ctx_->stream()));
  }
  THAW_CUDA_CHECK(cudaMemcpyAsync(bad.data(), bad_rows_.data(), bad.size() * sizeof(int), cudaMemcpyDeviceToHost,
                                  ctx_->stream()));
  ctx_->synchronize("shard losses");
  for (size_t j = 0; j < starts.size(); ++j) cuda::check_cross_entropy(labels_.data() + starts[j], rows, g_.num_classes, bad[j]);
  return losses;
}

std::vector<double> CudaTrainStep::reduce_shards(const std::vector<int64_t>& starts, int64_t rows, int64_t step) {
  shard_losses(starts, rows);  // labels checked; the stream has finished every shard
  if (gpu_comm_) {
    // The comm works on its own stream, after the wait above; the exchange returns with it idle.
    timed_other("shard records", [&] {
      all_gather(*gpu_comm_, record(layout_.first_shard()), records_.data(),
                 static_cast<size_t>(layout_.shards_per_rank() * record_bytes_), cat_str("shard records at step ", step));
    });
  }
  std::vector<double> losses(static_cast<size_t>(layout_.shards));
  THAW_CUDA_CHECK(cudaMemcpy2DAsync(losses.data(), sizeof(double), records_.data(), static_cast<size_t>(record_bytes_),
                                    sizeof(double), losses.size(), cudaMemcpyDeviceToHost, ctx_->stream()));
  ctx_->synchronize("shard losses");
  return losses;
}

void CudaTrainStep::apply_bn_statistics() {
  for (int64_t s = 0; s < layout_.shards; ++s) {
    const auto* stats = reinterpret_cast<const float*>(record(s) + sizeof(double));
    for (size_t k = 0; k < bn_nodes_.size(); ++k) exec_->apply_bn_statistics(bn_nodes_[k], stats + bn_at_[k]);
  }
}

double CudaTrainStep::run(const StepBatch& batch, int64_t step, double lr) { return run_overlapping(batch, step, lr, {}); }

double CudaTrainStep::run_overlapping(const StepBatch& batch, int64_t step, double lr,
                                      const std::function<void()>& meanwhile) {
  THAW_CHECK(batch.boundary < 0, "the GPU step takes pixels, not the feature cache's boundary activations");
  const int64_t rows = batch.x->shape()[0];
  THAW_CHECK(static_cast<int64_t>(batch.labels.size()) == rows, "labels do not match the batch");
  const std::vector<int64_t> starts = shard_starts(layout_, batch.first, rows);  // one rank: the whole batch
  if (!uploaded_optimizer_) {
    // The hook restored a resumed run's state into the host copy after construction.
    opt_->from_host(host_opt_);
    uploaded_optimizer_ = true;
  }
  samples_ = batch.samples.size() == static_cast<size_t>(rows) ? batch.samples : std::span<const int64_t>();
  from_cache_ = cache_ && cache_->holds(samples_);
  timed_other("batch upload", [&] { upload_batch(batch, starts, layout_.shard_size()); });
  const int64_t b = layout_.shard_size();
  if (shard_losses_.size() < starts.size()) {
    shard_losses_ = cuda::DeviceBuffer<double>(starts.size());
    bad_rows_ = cuda::DeviceBuffer<int>(starts.size());
  }
  bad_rows_.fill_bytes(0x7f, ctx_->stream());
  if (graph_eligible()) return run_captured(starts, b, step, lr, meanwhile);
  std::unique_ptr<BucketReducer> reducer;
  if (gpu_comm_) reducer = std::make_unique<BucketReducer>(*gpu_comm_);
  for (size_t j = 0; j < starts.size(); ++j) {
    if (reducer && j + 1 == starts.size()) {
      last_shard_reducing(j, starts[j], b, step, *reducer);
      continue;
    }
    shard(j, starts[j], b, step);
    if (layout_.shards > 1) timed_other("shard gradient sum", [&] { leaves_->push(exec_->trainable_grads()); });
  }
  uploads_->release();  // every read of the pixels is queued: the next stage() may fill the other side
  // Several ranks run several shards (validate_shards: the ranks divide the shards).
  if (layout_.shards == 1) return update_then_wait(starts, b, step, lr, meanwhile);
  float* sum = leaves_->result();
  // Every shard's forward and backward is queued: the host is free until the loss is needed.
  if (meanwhile) meanwhile();
  // Every bucket summed over all ranks (the first error of the reduction is rethrown here). Host
  // time: the GPU's profile cannot see the comm's stream.
  if (reducer) reducer->finish();
  const double loss = tree_sum(reduce_shards(starts, b, step)) / static_cast<double>(layout_.shards);
  if (!std::isfinite(loss) && !(cfg_.stop_on_divergence > 0)) fail_diverged(step, loss, cfg_.schedule.base_lr);
  // A range test's non-finite loss: no update and no running statistics (the loop stops after this
  // step, engine/train/trainer.cc).
  if (std::isfinite(loss)) {
    // 1/V is a power of two: the scaling is exact. The optimizer reads the executor's gradients.
    const float scale = 1.0f / static_cast<float>(layout_.shards);
    cuda::scale_into(*ctx_, exec_->trainable_span(), scale, sum, exec_->trainable_grads());
    apply_bn_statistics();
    timed_other("optimizer", [&] { opt_->step(lr); });
  }
  return loss;
}

double CudaTrainStep::update_then_wait(const std::vector<int64_t>& starts, int64_t rows, int64_t step, double lr,
                                       const std::function<void()>& meanwhile) {
  cuda::step_skip_flag(*ctx_, shard_losses_.data(), bad_rows_.data(), rows, skip_update_.data());
  timed_other("optimizer", [&] { opt_->step(lr, skip_update_.data()); });
  warmed_ = true;
  return finish_update(starts, rows, step, meanwhile);
}

double CudaTrainStep::finish_update(const std::vector<int64_t>& starts, int64_t rows, int64_t step,
                                    const std::function<void()>& meanwhile) {
  // The whole step is queued: the host is free until the loss is needed.
  if (meanwhile) meanwhile();
  double loss = 0;
  try {
    loss = shard_losses(starts, rows)[0];
  } catch (...) {
    opt_->forget_step();  // a bad label: the device skipped the update
    throw;
  }
  if (std::isfinite(loss)) return loss;
  // The device skipped the update; a range test's loop stops after this step (engine/train/trainer.cc).
  opt_->forget_step();
  if (!(cfg_.stop_on_divergence > 0)) fail_diverged(step, loss, cfg_.schedule.base_lr);
  return loss;
}

LogitsForward* CudaTrainStep::inference(const ModelState<float>& state) {
  if (!inference_) {
    inference_ = std::make_unique<CudaInference>(*ctx_, g_, state);
  } else {
    inference_->refresh(state);
  }
  return inference_.get();
}

void CudaTrainStep::begin_sync_params() {
  const auto span = static_cast<size_t>(exec_->trainable_span());
  if (span == 0) return;
  // A download still unread is overwritten: the host never waited for it.
  if (download_pending_) downloaded_.wait();
  updated_.record(ctx_->stream());
  updated_.order_before(downloads_.get());
  THAW_CUDA_CHECK(cudaMemcpyAsync(host_span_.data(), exec_->trainable_values(), span * sizeof(float),
                                  cudaMemcpyDeviceToHost, downloads_.get()));
  THAW_CUDA_CHECK(cudaMemcpyAsync(host_span_.data() + span, exec_->trainable_grads(), span * sizeof(float),
                                  cudaMemcpyDeviceToHost, downloads_.get()));
  downloaded_.record(downloads_.get());
  download_pending_ = guard_backward_ = true;
}

void CudaTrainStep::sync_params() {
  if (exec_->trainable_span() == 0) return;
  if (!download_pending_) begin_sync_params();
  downloaded_.wait();
  download_pending_ = false;
}

void CudaTrainStep::sync_state() {
  exec_->download(state_);  // waits for the stream: the update is done
  sync_params();
  const float* grads = host_span_.data() + exec_->trainable_span();
  for (int t : exec_->plan().trainable_tensors) {
    Tensor<float>& grad = host_grads_[t];
    const float* from = grads + exec_->trainable_offset(t);
    std::copy(from, from + grad.numel(), grad.data());
  }
  opt_->to_host(host_opt_);
}

}  // namespace thaw

#endif  // THAW_HAVE_CUDA
