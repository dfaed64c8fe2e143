#include "engine/gpu/cuda_predict.h"

#include "engine/gpu/cuda_device.h"

#if THAW_HAVE_CUDA

#include <algorithm>

#include "core/error.h"
#include "engine/gpu/cuda_executor.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/device_buffer.h"

namespace thaw {

Tensor<float> cuda_predict_logits(const Graph& g, const ModelState<float>& state, const std::vector<float>& x,
                                  int64_t n, int64_t batch_size) {
  require_cuda_device();
  const int64_t per = 3 * g.input_size * g.input_size;
  THAW_CHECK(n >= 1 && batch_size >= 1 && static_cast<int64_t>(x.size()) == n * per, "predict: ", x.size(),
             " input values for ", n, " images of ", per);
  cuda::Context ctx(0);
  const Plan plan = make_plan(g, static_cast<int>(g.blocks.size()) - 1, BnPolicy::Frozen);
  CudaExecutor exec(ctx, g, plan, state);
  const int64_t b_max = std::min(batch_size, n);
  cuda::DeviceBuffer<float> d_x(static_cast<size_t>(b_max * per));
  Tensor<float> y({n, g.num_classes});
  for (int64_t start = 0; start < n; start += b_max) {
    const int64_t b = std::min(b_max, n - start);
    d_x.upload(x.data() + start * per, static_cast<size_t>(b * per), ctx.stream());
    exec.forward(d_x.data(), b, Phase::Eval);
    const std::vector<float> logits = exec.logits_to_host();
    std::copy(logits.begin(), logits.end(), y.data() + start * g.num_classes);
  }
  return y;
}

}  // namespace thaw

#else  // no CUDA in this build

namespace thaw {

Tensor<float> cuda_predict_logits(const Graph&, const ModelState<float>&, const std::vector<float>&, int64_t,
                                  int64_t) {
  require_cuda_device();
  return {};
}

}  // namespace thaw

#endif
