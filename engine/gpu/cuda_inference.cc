#include "engine/gpu/cuda_inference.h"

#if THAW_HAVE_CUDA

#include "core/error.h"

namespace thaw {

namespace {

Plan all_frozen(const Graph& g) { return make_plan(g, static_cast<int>(g.blocks.size()) - 1, BnPolicy::Frozen); }

}  // namespace

CudaInference::CudaInference(cuda::Context& ctx, const Graph& g, const ModelState<float>& state)
    : ctx_(ctx), g_(g), plan_(all_frozen(g)), exec_(ctx, g, plan_, state) {}

std::span<const float> CudaInference::logits(const Tensor<float>& x) {
  const Shape want{x.rank() ? x.dim(0) : 0, 3, g_.input_size, g_.input_size};
  THAW_CHECK(x.shape() == want, "GPU evaluation batch ", shape_str(x.shape()), ", expected ", shape_str(want));
  const auto count = static_cast<size_t>(x.numel());
  if (x_.size() < count) {
    ctx_.synchronize("GPU evaluation batch buffer");
    x_ = cuda::DeviceBuffer<float>(count);
  }
  x_.upload(x.data(), count, ctx_.stream());
  exec_.forward(x_.data(), x.dim(0), Phase::Eval);
  logits_ = exec_.logits_to_host();  // waits for the stream: x_ is free again
  return logits_;
}

}  // namespace thaw

#endif  // THAW_HAVE_CUDA
