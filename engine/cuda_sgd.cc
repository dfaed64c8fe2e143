#include "engine/cuda_sgd.h"

#if THAW_HAVE_CUDA

#include <cmath>

#include "core/error.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/sgd.h"

namespace thaw {

CudaSgd::CudaSgd(CudaExecutor& exec, const OptimizerConfig& config) : exec_(exec), config_(config) {
  validate_optimizer_config(config_);
  if (config_.kind != OptimizerConfig::Kind::Sgd) {
    fail_user("--optimizer ", optimizer_kind_name(config_.kind), ": only sgd runs on --device cuda for now");
  }
  const Graph& g = exec.graph();
  const bool any_decay = config_.weight_decay != 0;
  const int64_t span = exec.trainable_span();
  const std::vector<int>& ts = exec.plan().trainable_tensors;
  // Each tensor's range runs to the next one's start, so the zero gaps are covered too (they stay
  // zero: a zero value with a zero gradient and a zero buffer).
  for (size_t k = 0; k < ts.size(); ++k) {
    const int64_t begin = exec.trainable_offset(ts[k]);
    const int64_t end = k + 1 < ts.size() ? exec.trainable_offset(ts[k + 1]) : span;
    const bool decay = any_decay && g.tensors[ts[k]].role == TensorRole::Weight;
    if (!ranges_.empty() && ranges_.back().decay == decay && ranges_.back().begin + ranges_.back().count == begin) {
      ranges_.back().count += end - begin;
    } else {
      ranges_.push_back({begin, end - begin, decay});
    }
  }
  if (config_.momentum != 0 && span > 0) {
    momentum_ = cuda::DeviceBuffer<float>(static_cast<size_t>(span));
    momentum_.fill_bytes(0, exec.context().stream());
  }
}

void CudaSgd::step(double lr) {
  if (!(std::isfinite(lr) && lr >= 0)) fail_user("--lr: expected a finite learning rate >= 0, got ", lr);
  cuda::SgdScalars s;
  s.weight_decay = static_cast<float>(config_.weight_decay);
  s.momentum = static_cast<float>(config_.momentum);
  s.neg_lr = static_cast<float>(-lr);
  s.use_momentum = config_.momentum != 0;
  s.first_step = step_count_ == 0;
  s.nesterov = config_.nesterov;
  ++step_count_;
  for (const Range& r : ranges_) {
    s.decay = r.decay;
    cuda::sgd_step(exec_.context(), r.count, s, exec_.trainable_values() + r.begin, exec_.trainable_grads() + r.begin,
                   momentum_.empty() ? nullptr : momentum_.data() + r.begin);
  }
}

std::vector<float> CudaSgd::momentum_to_host(int tensor) {
  if (momentum_.empty()) return {};
  const int64_t off = exec_.trainable_offset(tensor);
  THAW_CHECK(off >= 0, "no momentum buffer for tensor ", tensor);
  std::vector<float> host(static_cast<size_t>(shape_numel(exec_.graph().tensors[tensor].shape)));
  cuda::Context& ctx = exec_.context();
  THAW_CUDA_CHECK(cudaMemcpyAsync(host.data(), momentum_.data() + off, host.size() * sizeof(float),
                                  cudaMemcpyDeviceToHost, ctx.stream()));
  ctx.synchronize("momentum download");
  return host;
}

}  // namespace thaw

#endif  // THAW_HAVE_CUDA
