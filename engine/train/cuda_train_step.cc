#include "engine/train/cuda_train_step.h"

#if THAW_HAVE_CUDA

#include <cmath>
#include <map>
#include <string>

#include "core/error.h"
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

CudaTrainStep::CudaTrainStep(const Graph& g, const Plan& plan, ModelState<float>& state, const TrainConfig& cfg,
                             HostCopy host_copy)
    : g_(g),
      cfg_(cfg),
      state_(state),
      host_grads_(gradient_tensors(g, plan)),
      host_opt_(cfg.optimizer, host_refs(g, plan, state, host_grads_)),
      host_copy_(host_copy) {
  THAW_CHECK(cfg.ranks == 1 && (cfg.comm == nullptr || cfg.comm->size() == 1),
             "the GPU step runs one rank, the run has ", cfg.ranks);
  layout_.batch = cfg.batch_size;
  layout_.shards = cfg.shards;
  validate_shards(layout_, g, plan);
  ctx_ = std::make_unique<cuda::Context>(0);
  ctx_->set_tf32(cfg.numerics == Numerics::Tf32);
  std::map<std::string, std::string> pins;
  for (const std::string& line : cfg.gpu_pins) {
    const size_t at = line.find(": ");
    if (at != std::string::npos) pins[line.substr(0, at)] = line.substr(at + 2);
  }
  ctx_->set_pins(std::move(pins));
  exec_ = std::make_unique<CudaExecutor>(*ctx_, g, plan, state, cfg.bf16());
  exec_->set_fold_frozen(cfg.gpu_fold_frozen);
  opt_ = std::make_unique<CudaOptimizer>(*exec_, cfg.optimizer);
  if (layout_.shards > 1) leaves_ = std::make_unique<CudaLeafStack>(*ctx_, exec_->trainable_span());
  if (!cfg.class_weights.empty()) {
    class_weights_ = cuda::DeviceBuffer<float>(cfg.class_weights.size());
    class_weights_.upload(cfg.class_weights, ctx_->stream());
  }
}

// Queued work reads the batch buffers: wait for it before they go.
CudaTrainStep::~CudaTrainStep() {
  try {
    if (ctx_) ctx_->synchronize("CudaTrainStep teardown");
  } catch (const std::exception&) {  // a destructor must not throw; the error was raised before
  }
}

void CudaTrainStep::upload_batch(const StepBatch& batch, const std::vector<int64_t>& starts, int64_t shard_rows) {
  const int64_t rows = batch.x->shape()[0];
  per_row_ = batch.x->numel() / rows;
  // Each shard at an aligned start (engine/gpu/staging_layout.h): cuDNN refuses the odd offsets
  // that packed shards of 3 H W floats per row would have.
  staging_ = staging_layout(starts, shard_rows, per_row_);
  const auto floats = static_cast<size_t>(staging_.floats);
  // Queued work of the previous step may still read the buffers (without a host copy nothing
  // waited for it): finish it before they are replaced.
  if (x_.size() < floats || labels_.size() < batch.labels.size()) ctx_->synchronize("batch buffers");
  if (x_.size() < floats) x_ = cuda::DeviceBuffer<float>(floats);
  if (labels_.size() < batch.labels.size()) labels_ = cuda::DeviceBuffer<int32_t>(batch.labels.size());
  for (size_t j = 0; j < starts.size(); ++j) {
    THAW_CUDA_CHECK(cudaMemcpyAsync(x_.data() + staging_.offsets[j], batch.x->data() + starts[j] * per_row_,
                                    static_cast<size_t>(shard_rows * per_row_) * sizeof(float), cudaMemcpyHostToDevice,
                                    ctx_->stream()));
  }
  labels_.upload(batch.labels.data(), batch.labels.size(), ctx_->stream());
}

void CudaTrainStep::shard(size_t j, int64_t start, int64_t rows, int64_t step) {
  // Dropout masks are keyed by the global batch position, as on the CPU (the GPU step holds the
  // whole batch: rows from position 0).
  const StepKey key{cfg_.seed, step, start};
  exec_->forward(x_.data() + staging_.offsets[j], rows, Phase::Train, key);
  // The loss stays on the device until every shard has run: one wait per step, not per shard.
  timed_other("loss", [&] {
    exec_->loss_async(labels_.data() + start, cfg_.label_smoothing,
                      class_weights_.empty() ? nullptr : class_weights_.data(), shard_losses_.data() + j,
                      bad_rows_.data() + j);
  });
  exec_->backward();
}

std::vector<double> CudaTrainStep::shard_losses(const std::vector<int64_t>& starts, int64_t rows) {
  std::vector<double> losses(starts.size());
  std::vector<int> bad(starts.size());
  THAW_CUDA_CHECK(cudaMemcpyAsync(losses.data(), shard_losses_.data(), losses.size() * sizeof(double),
                                  cudaMemcpyDeviceToHost, ctx_->stream()));
  THAW_CUDA_CHECK(cudaMemcpyAsync(bad.data(), bad_rows_.data(), bad.size() * sizeof(int), cudaMemcpyDeviceToHost,
                                  ctx_->stream()));
  ctx_->synchronize("shard losses");
  for (size_t j = 0; j < starts.size(); ++j) cuda::check_cross_entropy(labels_.data() + starts[j], rows, g_.num_classes, bad[j]);
  return losses;
}

double CudaTrainStep::run(const StepBatch& batch, int64_t step, double lr) {
  THAW_CHECK(batch.boundary < 0, "the GPU step takes pixels, not the feature cache's boundary activations");
  const int64_t rows = batch.x->shape()[0];
  THAW_CHECK(static_cast<int64_t>(batch.labels.size()) == rows, "labels do not match the batch");
  const std::vector<int64_t> starts = shard_starts(layout_, batch.first, rows);  // one rank: the whole batch
  if (!uploaded_optimizer_) {
    // The hook restored a resumed run's state into the host copy after construction.
    opt_->from_host(host_opt_);
    uploaded_optimizer_ = true;
  }
  timed_other("batch upload", [&] { upload_batch(batch, starts, layout_.shard_size()); });
  const int64_t b = layout_.shard_size();
  if (shard_losses_.size() < starts.size()) {
    shard_losses_ = cuda::DeviceBuffer<double>(starts.size());
    bad_rows_ = cuda::DeviceBuffer<int>(starts.size());
  }
  bad_rows_.fill_bytes(0x7f, ctx_->stream());
  for (size_t j = 0; j < starts.size(); ++j) {
    shard(j, starts[j], b, step);
    if (layout_.shards > 1) timed_other("shard gradient sum", [&] { leaves_->push(exec_->trainable_grads()); });
  }
  const std::vector<double> losses = shard_losses(starts, b);
  const double loss = layout_.shards == 1 ? losses[0] : tree_sum(losses) / static_cast<double>(layout_.shards);
  if (!std::isfinite(loss) && !(cfg_.stop_on_divergence > 0)) fail_diverged(step, loss, cfg_.schedule.base_lr);
  if (layout_.shards > 1) {
    // 1/V is a power of two: the scaling is exact. The optimizer reads the executor's gradients.
    const float scale = 1.0f / static_cast<float>(layout_.shards);
    cuda::scale_into(*ctx_, exec_->trainable_span(), scale, leaves_->result(), exec_->trainable_grads());
  }
  // A range test's non-finite loss: no update (the loop stops after this step, engine/train/trainer.cc).
  if (std::isfinite(loss)) timed_other("optimizer", [&] { opt_->step(lr); });
  if (host_copy_ == HostCopy::EveryStep) sync_host();
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

void CudaTrainStep::sync_host() {
  exec_->download(state_);  // waits for the stream: the update is done
  const int64_t span = exec_->trainable_span();
  host_span_.resize(static_cast<size_t>(span));
  if (span > 0) {
    THAW_CUDA_CHECK(cudaMemcpyAsync(host_span_.data(), exec_->trainable_grads(), host_span_.size() * sizeof(float),
                                    cudaMemcpyDeviceToHost, ctx_->stream()));
    ctx_->synchronize("gradient download");
  }
  for (int t : exec_->plan().trainable_tensors) {
    Tensor<float>& grad = host_grads_[t];
    const float* from = host_span_.data() + exec_->trainable_offset(t);
    std::copy(from, from + grad.numel(), grad.data());
  }
  opt_->to_host(host_opt_);
}

}  // namespace thaw

#endif  // THAW_HAVE_CUDA
