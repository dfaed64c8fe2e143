#include "engine/gpu/gpu_inference.h"

#include "engine/gpu/cuda_device.h"

#if THAW_HAVE_CUDA

#include "engine/gpu/cuda_inference.h"
#include "kernels/cuda/context.h"

namespace thaw {

namespace {

// The context outlives the executor that uses it: declared first, destroyed last.
class OwnedGpuInference final : public LogitsForward {
 public:
  OwnedGpuInference(const Graph& g, const ModelState<float>& state) : ctx_(0), inference_(ctx_, g, state) {}
  std::span<const float> logits(const Tensor<float>& x) override { return inference_.logits(x); }

 private:
  cuda::Context ctx_;
  CudaInference inference_;
};

}  // namespace

std::unique_ptr<LogitsForward> make_gpu_inference(const Graph& g, const ModelState<float>& state) {
  require_cuda_device();
  return std::make_unique<OwnedGpuInference>(g, state);
}

}  // namespace thaw

#else  // no CUDA in this build

namespace thaw {

std::unique_ptr<LogitsForward> make_gpu_inference(const Graph&, const ModelState<float>&) {
  require_cuda_device();
  return nullptr;
}

}  // namespace thaw

#endif
