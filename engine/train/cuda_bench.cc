#include "engine/train/cuda_bench.h"

#include "engine/gpu/cuda_device.h"

#if THAW_HAVE_CUDA

#include <chrono>

#include "core/error.h"
#include "engine/data/synthetic.h"
#include "engine/train/cuda_train_step.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/event.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/conv_plan.h"
#include "kernels/cuda/versions.h"

namespace thaw {

namespace {

using cuda::Event;

int64_t device_used_bytes() {
  size_t free_b = 0, total_b = 0;
  THAW_CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
  return static_cast<int64_t>(total_b - free_b);
}

TrainConfig bench_config(int64_t batch, Numerics numerics) {
  TrainConfig cfg;
  cfg.batch_size = batch;
  cfg.shards = 1;
  cfg.numerics = numerics;
  cfg.optimizer = OptimizerConfig{};  // SGD, momentum 0.9, no weight decay
  cfg.schedule.base_lr = 1e-3;
  return cfg;
}

}  // namespace

CudaBenchResult cuda_bench(const Graph& g, const Plan& plan, int64_t batch, int64_t steps, int64_t warmup,
                           Numerics numerics, StepProfile* profile, CudaBenchLayout layout) {
  require_cuda_device();
  CudaBenchResult r;
  r.steps = steps;
  r.warmup = warmup;
  const int64_t used_before = device_used_bytes();
  ModelState<float> state = ModelState<float>::random(g, 0);
  TrainConfig cfg = bench_config(batch, numerics);
  cfg.gpu_channels_last = layout.channels_last;
  cfg.gpu_fused_epilogue = layout.fused_epilogue;
  cfg.gpu_graph = layout.graph;
  CudaTrainStep step(g, plan, state, cfg);
  const int cl_end = step.executor().channels_last_end();
  if (cl_end >= 0) r.channels_last_end = g.nodes[static_cast<size_t>(cl_end)].name;
  r.layout = step.executor().all_channels_last() ? "nhwc" : cl_end >= 0 ? "nhwc front" : "nchw";
  cuda::Context& ctx = step.context();
  r.gpu = ctx.info().describe();
  r.gpu_name = ctx.info().name;
  r.libraries = cuda::library_versions().describe();

  Tensor<float> x;
  std::vector<int32_t> labels;
  synthetic_batch(1, 0, batch, g.input_size, g.num_classes, x, labels);
  Event start, stop, step_start, step_stop;
  double wall = 0;
  for (int64_t s = 0; s < warmup + steps; ++s) {
    if (s == warmup) start.record(ctx.stream());
    step_start.record(ctx.stream());
    const auto t0 = std::chrono::steady_clock::now();
    // As in the training loop: the next batch is staged during the step (its upload overlaps it).
    StepBatch input{&x, labels, 0};
    input.staged = s > 0;
    const double loss = step.run_overlapping(input, s, 1e-3, [&] { step.stage({&x, labels, 0}); });
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
  if (profile) {
    // Apart from the timed steps: reading the events waits for each step.
    step.executor().set_profile(profile);
    for (int64_t s = 0; s < steps; ++s) {
      step.run({&x, labels, 0}, warmup + steps + s, 1e-3);
      step.executor().flush_profile();
      profile->end_step();
    }
    step.executor().set_profile(nullptr);
  }
  ctx.synchronize("cuda bench");
  r.folded_groups = step.executor().folded_convs();
  r.fused_groups = step.executor().fused_groups();
  r.captured_graphs = step.captured_graphs();
  r.unfused = cuda::refused_fused_problems(ctx);
  r.arena_bytes = step.executor().arena_bytes();
  r.state_bytes = step.executor().device_bytes() - r.arena_bytes + step.device_optimizer().device_bytes();
  r.device_used_bytes = device_used_bytes();
  r.allocated_bytes = r.device_used_bytes - used_before;
  return r;
}

}  // namespace thaw

#else  // no CUDA in this build

namespace thaw {

CudaBenchResult cuda_bench(const Graph&, const Plan&, int64_t, int64_t, int64_t, Numerics, StepProfile*, CudaBenchLayout) {
  require_cuda_device();
  return {};
}

}  // namespace thaw

#endif
