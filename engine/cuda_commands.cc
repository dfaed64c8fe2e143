#include "engine/cuda_commands.h"

#include "core/error.h"

#if THAW_HAVE_CUDA

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string_view>

#include "engine/cuda_executor.h"
#include "engine/cuda_sgd.h"
#include "engine/synthetic.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/device_buffer.h"
#include "kernels/cuda/device_query.h"
#include "kernels/cuda/versions.h"

namespace thaw {

namespace {

// Owns a CUDA event; destruction only logs.
class Event {
 public:
  Event() { THAW_CUDA_CHECK(cudaEventCreate(&e_)); }
  ~Event() {
    if (e_) THAW_CUDA_LOG(cudaEventDestroy(e_));
  }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  void record(cudaStream_t s) { THAW_CUDA_CHECK(cudaEventRecord(e_, s)); }
  // Milliseconds from `start` to this event, once this event has completed.
  float since(const Event& start) const {
    THAW_CUDA_CHECK(cudaEventSynchronize(e_));
    float ms = 0;
    THAW_CUDA_CHECK(cudaEventElapsedTime(&ms, start.e_, e_));
    return ms;
  }

 private:
  cudaEvent_t e_ = nullptr;
};

int64_t device_used_bytes() {
  size_t free_b = 0, total_b = 0;
  THAW_CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
  return static_cast<int64_t>(total_b - free_b);
}

}  // namespace

void require_cuda_device() {
  std::string why;
  if (cuda::device_count(&why) > 0) return;
  constexpr std::string_view prefix = "no usable CUDA device: ";
  if (why.rfind(prefix, 0) == 0) why = why.substr(prefix.size());
  fail_user("--device cuda: no usable CUDA device (", why.empty() ? "none found" : why, ")");
}

CudaBenchResult cuda_bench(const Graph& g, const Plan& plan, int64_t batch, int64_t steps, int64_t warmup,
                           bool tf32) {
  require_cuda_device();
  cuda::Context ctx(0);
  ctx.set_tf32(tf32);
  CudaBenchResult r;
  r.gpu = ctx.info().describe();
  r.gpu_name = ctx.info().name;
  r.libraries = cuda::library_versions().describe();
  r.steps = steps;
  r.warmup = warmup;
  const int64_t used_before = device_used_bytes();

  ModelState<float> state = ModelState<float>::random(g, 0);
  CudaExecutor exec(ctx, g, plan, state);
  OptimizerConfig oc;  // SGD, momentum 0.9, no weight decay: what the CPU bench runs
  CudaSgd opt(exec, oc);

  Tensor<float> x;
  std::vector<int32_t> labels;
  synthetic_batch(1, 0, batch, g.input_size, g.num_classes, x, labels);
  cuda::DeviceBuffer<float> d_x(static_cast<size_t>(x.numel()));
  cuda::DeviceBuffer<int32_t> d_labels(labels.size());
  d_x.upload(x.data(), static_cast<size_t>(x.numel()), ctx.stream());
  d_labels.upload(labels, ctx.stream());

  Event start, stop, step_start, step_stop;
  double wall = 0;
  for (int64_t s = 0; s < warmup + steps; ++s) {
    if (s == warmup) start.record(ctx.stream());
    step_start.record(ctx.stream());
    const auto t0 = std::chrono::steady_clock::now();
    exec.forward(d_x.data(), batch, Phase::Train, {0, s, 0});
    const double loss = exec.loss(d_labels.data());
    exec.backward();
    opt.step(1e-3);
    step_stop.record(ctx.stream());
    const double ms = step_stop.since(step_start);
    if (s >= warmup) wall += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.step_ms_each.push_back(ms);
    if (s == 0) r.first_loss = loss;
    r.last_loss = loss;
  }
  stop.record(ctx.stream());
  r.step_ms = steps > 0 ? stop.since(start) / static_cast<double>(steps) : 0.0;
  r.wall_step_ms = steps > 0 ? 1000.0 * wall / static_cast<double>(steps) : 0.0;
  ctx.synchronize("cuda bench");
  r.arena_bytes = exec.arena_bytes();
  r.state_bytes = exec.device_bytes() - exec.arena_bytes() + opt.device_bytes();
  r.device_used_bytes = device_used_bytes();
  r.allocated_bytes = r.device_used_bytes - used_before;
  return r;
}

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

void require_cuda_device() { fail_user("--device cuda: this thaw was built without CUDA; use --device cpu"); }

CudaBenchResult cuda_bench(const Graph&, const Plan&, int64_t, int64_t, int64_t, bool) {
  require_cuda_device();
  return {};
}

Tensor<float> cuda_predict_logits(const Graph&, const ModelState<float>&, const std::vector<float>&, int64_t,
                                  int64_t) {
  require_cuda_device();
  return {};
}

}  // namespace thaw

#endif
