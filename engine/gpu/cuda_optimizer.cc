#include "engine/gpu/cuda_optimizer.h"

#if THAW_HAVE_CUDA

#include <cmath>
#include <map>
#include <span>
#include <string>

#include "core/error.h"
#include "kernels/cuda/adamw.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/sgd.h"

namespace thaw {

std::vector<CudaOptimizer::DecayRange> CudaOptimizer::decay_ranges(const CudaExecutor& exec, bool any_decay) {
  const Graph& g = exec.graph();
  const int64_t span = exec.trainable_span();
  const std::vector<int>& ts = exec.plan().trainable_tensors;
  std::vector<DecayRange> ranges;
  for (size_t k = 0; k < ts.size(); ++k) {
    const int64_t begin = exec.trainable_offset(ts[k]);
    const int64_t end = k + 1 < ts.size() ? exec.trainable_offset(ts[k + 1]) : span;
    const bool decay = any_decay && g.tensors[ts[k]].role == TensorRole::Weight;
    if (!ranges.empty() && ranges.back().decay == decay && ranges.back().begin + ranges.back().count == begin) {
      ranges.back().count += end - begin;
    } else {
      ranges.push_back({begin, end - begin, decay});
    }
  }
  return ranges;
}

CudaOptimizer::CudaOptimizer(CudaExecutor& exec, const OptimizerConfig& config) : exec_(exec), config_(config) {
  validate_optimizer_config(config_);
  ranges_ = decay_ranges(exec, config_.weight_decay != 0);
  const int64_t span = exec.trainable_span();
  const bool sgd = config_.kind == OptimizerConfig::Kind::Sgd;
  const auto n = static_cast<size_t>(span);
  if (span > 0 && (!sgd || config_.momentum != 0)) state_a_ = cuda::DeviceBuffer<float>(n);
  if (span > 0 && !sgd) state_b_ = cuda::DeviceBuffer<float>(n);
  state_a_.fill_bytes(0, exec.context().stream());
  state_b_.fill_bytes(0, exec.context().stream());
}

CudaOptimizer::StepScalars CudaOptimizer::advance(double lr) {
  if (!(std::isfinite(lr) && lr >= 0)) fail_user("--lr: expected a finite learning rate >= 0, got ", lr);
  StepScalars s;
  if (config_.kind == OptimizerConfig::Kind::Sgd) {
    s.sgd.weight_decay = static_cast<float>(config_.weight_decay);
    s.sgd.momentum = static_cast<float>(config_.momentum);
    s.sgd.neg_lr = static_cast<float>(-lr);
    s.sgd.use_momentum = config_.momentum != 0;
    s.sgd.first_step = step_count_ == 0;
    s.sgd.nesterov = config_.nesterov;
    ++step_count_;
    return s;
  }
  ++step_count_;
  // The CPU's scalars (Optimizer::step_adamw): computed in double, then rounded to float.
  const double t = static_cast<double>(step_count_);
  const double bc1 = 1 - std::pow(config_.beta1, t);
  const double bc2 = 1 - std::pow(config_.beta2, t);
  s.adamw.keep = static_cast<float>(1 - lr * config_.weight_decay);
  s.adamw.beta1 = static_cast<float>(config_.beta1);
  s.adamw.beta2 = static_cast<float>(config_.beta2);
  s.adamw.one_minus_beta1 = static_cast<float>(1 - config_.beta1);
  s.adamw.one_minus_beta2 = static_cast<float>(1 - config_.beta2);
  s.adamw.bc2_sqrt = static_cast<float>(std::sqrt(bc2));
  s.adamw.eps = static_cast<float>(config_.eps);
  s.adamw.neg_step = static_cast<float>(-(lr / bc1));
  return s;
}

void CudaOptimizer::queue(StepScalars s, const int32_t* skip, const float* at) {
  cuda::Context& ctx = exec_.context();
  float* values = exec_.trainable_values();
  const float* grads = exec_.trainable_grads();
  const bool sgd = config_.kind == OptimizerConfig::Kind::Sgd;
  s.sgd.skip = s.adamw.skip = skip;
  if (sgd) {
    s.sgd.neg_lr_at = at;
  } else {
    s.adamw.step_at = at;
  }
  for (const DecayRange& r : ranges_) {
    if (sgd) {
      s.sgd.decay = r.decay;
      cuda::sgd_step(ctx, r.count, s.sgd, values + r.begin, grads + r.begin,
                     state_a_.empty() ? nullptr : state_a_.data() + r.begin);
    } else {
      s.adamw.decay = r.decay;
      cuda::adamw_step(ctx, r.count, s.adamw, values + r.begin, grads + r.begin, state_a_.data() + r.begin,
                       state_b_.data() + r.begin);
    }
  }
}

void CudaOptimizer::step(double lr, const int32_t* skip) { queue(advance(lr), skip, nullptr); }

void CudaOptimizer::prepare(double lr) {
  prepared_ = advance(lr);
  // The previous step's copy out of this pinned memory is done: the caller waited for that step.
  if (host_scalars_.size() == 0) {
    host_scalars_ = cuda::PinnedArray<float>(3);
    device_scalars_ = cuda::DeviceBuffer<float>(3);
  }
  float* h = host_scalars_.data();
  if (config_.kind == OptimizerConfig::Kind::Sgd) {
    h[0] = prepared_.sgd.neg_lr;
  } else {
    h[0] = prepared_.adamw.keep, h[1] = prepared_.adamw.neg_step, h[2] = prepared_.adamw.bc2_sqrt;
  }
  THAW_CUDA_CHECK(cudaMemcpyAsync(device_scalars_.data(), h, 3 * sizeof(float), cudaMemcpyHostToDevice,
                                  exec_.context().stream()));
}

void CudaOptimizer::queue_prepared(const int32_t* skip) {
  // The first SGD step with momentum sets its buffer instead of reading it: a different kernel,
  // which a graph captured once cannot switch to.
  THAW_CHECK(!prepared_.sgd.first_step, "CudaOptimizer::queue_prepared: the first SGD step is queued with step()");
  queue(prepared_, skip, device_scalars_.data());
}

std::vector<std::pair<cuda::DeviceBuffer<float>*, const char*>> CudaOptimizer::buffers() {
  if (config_.kind == OptimizerConfig::Kind::AdamW) return {{&state_a_, "exp_avg"}, {&state_b_, "exp_avg_sq"}};
  if (state_a_.empty()) return {};
  return {{&state_a_, "momentum_buffer"}};
}

template <typename Span>
Span CudaOptimizer::state_of(const std::map<std::string, Span>& spans, int tensor, const char* suffix) const {
  const std::string key = exec_.graph().tensors[tensor].name + "." + suffix;
  const auto it = spans.find(key);
  THAW_CHECK(it != spans.end(), "host optimizer has no state ", key);
  THAW_CHECK(exec_.trainable_offset(tensor) + static_cast<int64_t>(it->second.size()) <= exec_.trainable_span(),
             "state ", key, " outside the trainable span");
  return it->second;
}

void CudaOptimizer::to_host(Optimizer<float>& host) {
  THAW_CHECK(host.config().kind == config_.kind, "host optimizer of another kind");
  std::map<std::string, std::span<float>> spans = host.state();
  cuda::Context& ctx = exec_.context();
  for (auto [buf, suffix] : buffers()) {
    ctx.synchronize("optimizer state download");
    const std::vector<float> all = buf->download(ctx.stream());
    for (int t : exec_.plan().trainable_tensors) {
      const std::span<float> host_state = state_of(spans, t, suffix);
      const int64_t off = exec_.trainable_offset(t);
      std::copy(all.begin() + off, all.begin() + off + static_cast<int64_t>(host_state.size()), host_state.begin());
    }
  }
  host.set_step_count(step_count_);
}

void CudaOptimizer::from_host(const Optimizer<float>& host) {
  THAW_CHECK(host.config().kind == config_.kind, "host optimizer of another kind");
  const std::map<std::string, std::span<const float>> spans = host.state();
  cuda::Context& ctx = exec_.context();
  for (auto [buf, suffix] : buffers()) {
    std::vector<float> all(buf->size(), 0.0f);  // the gaps stay zero
    for (int t : exec_.plan().trainable_tensors) {
      const std::span<const float> host_state = state_of(spans, t, suffix);
      std::copy(host_state.begin(), host_state.end(), all.begin() + exec_.trainable_offset(t));
    }
    ctx.synchronize("optimizer state upload");  // queued steps may still read the buffer
    buf->upload(all, ctx.stream());
  }
  step_count_ = host.step_count();
}

}  // namespace thaw

#endif  // THAW_HAVE_CUDA
