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
  ranges_ = decay_ranges(exec, config_.weight_decay != 0);
  const int64_t span = exec.trainable_span();
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
  for (const DecayRange& r : ranges_) {
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
