// CudaTrainStep with TrainConfig::gpu_graph: a one-shard step captured into a CUDA graph once per
// batch buffer and launched whole at every later step. What differs from step to step reaches the
// device before each launch (the dropout key, the optimizer's learning-rate scalars, the labels and
// the staged pixels); what the capture did on the host (the batch norms' counters, the optimizer's
// step count) is done again for each launch. The device work is the eager step's, op for op, so
// the bits are the same (tests/cuda/cuda_graph_step_test.cc).
#include "engine/train/cuda_train_step.h"

#if THAW_HAVE_CUDA

#include <algorithm>
#include <cstdio>
#include <string>

#include "core/error.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/loss.h"

namespace thaw {

bool CudaTrainStep::graph_eligible() const {
  return cfg_.gpu_graph && !graph_failed_ && warmed_ && layout_.shards == 1 &&
         cache_ == nullptr && exec_->profile() == nullptr && opt_->step_count() >= 1;
}

double CudaTrainStep::run_captured(const std::vector<int64_t>& starts, int64_t rows, int64_t step, double lr,
                                   const std::function<void()>& meanwhile) {
  cudaStream_t stream = ctx_->stream();
  // A graph holds the buffers and plans of its capture: another batch size or a reallocated area
  // (an evaluation on this Context may have grown it) makes every one stale.
  if (rows != graph_rows_ || ctx_->generation() != graph_generation_) {
    ctx_->synchronize("dropping the captured steps");
    graphs_.clear();
    graph_rows_ = rows;
    graph_generation_ = ctx_->generation();
  }
  if (step_key_.empty()) {
    step_key_host_ = cuda::PinnedArray<cuda::DeviceStepKey>(1);
    step_key_ = cuda::DeviceBuffer<cuda::DeviceStepKey>(1);
  }
  // The previous launch read this pinned key long ago: the host waited for its loss.
  *step_key_host_.data() = {cfg_.seed, step, layout_.first_shard() * layout_.shard_size()};
  THAW_CUDA_CHECK(cudaMemcpyAsync(step_key_.data(), step_key_host_.data(), sizeof(cuda::DeviceStepKey),
                                  cudaMemcpyHostToDevice, stream));
  opt_->prepare(lr);
  auto it = std::find_if(graphs_.begin(), graphs_.end(), [&](const StepGraph& g) { return g.pixels == pixels_; });
  if (it == graphs_.end()) {
    StepGraph fresh;
    fresh.pixels = pixels_;
    const std::vector<int64_t> before = exec_->batches_tracked();
    exec_->set_device_step_key(step_key_.data());
    capturing_ = true;
    try {
      fresh.graph = cuda::CapturedGraph::capture(
          stream,
          [&] {
            shard(0, starts[0], rows, step);
            cuda::step_skip_flag(*ctx_, shard_losses_.data(), bad_rows_.data(), rows, skip_update_.data());
            opt_->queue_prepared(skip_update_.data());
          },
          "capturing the GPU training step");
      // An area that grew while capturing would have failed the capture; this is the last check.
      THAW_CHECK(ctx_->generation() == graph_generation_, "the Context's areas changed while capturing the step");
    } catch (const std::exception& e) {
      capturing_ = false;
      exec_->set_device_step_key(nullptr);
      return run_uncaptured(starts, rows, step, lr, meanwhile, before, e.what());
    }
    capturing_ = false;
    exec_->set_device_step_key(nullptr);
    ++captures_;
    const std::vector<int64_t>& after = exec_->batches_tracked();
    fresh.tracked.resize(after.size());
    for (size_t t = 0; t < after.size(); ++t) fresh.tracked[t] = after[t] - before[t];
    graphs_.push_back(std::move(fresh));
    it = graphs_.end() - 1;
  } else {
    exec_->advance_batches_tracked(it->tracked);  // the capture advanced them once, for its own launch
  }
  guard_backward_ = false;  // every launch waits for the last download (shard(), capturing_)
  it->graph.launch(stream);
  uploads_->release();
  return finish_update(starts, rows, step, meanwhile);
}

double CudaTrainStep::run_uncaptured(const std::vector<int64_t>& starts, int64_t rows, int64_t step, double lr,
                                     const std::function<void()>& meanwhile, const std::vector<int64_t>& tracked,
                                     const std::string& why) {
  // Undo what the capture's host code counted, and the runtime's record of the capture's error.
  (void)cudaGetLastError();
  exec_->set_batches_tracked(tracked);
  opt_->forget_step();
  graph_failed_ = true;
  std::fprintf(stderr, "thaw: note: the GPU step could not be captured into a CUDA graph (%s); it runs op by op\n",
               why.c_str());
  shard(0, starts[0], rows, step);
  uploads_->release();
  return update_then_wait(starts, rows, step, lr, meanwhile);
}

}  // namespace thaw

#endif  // THAW_HAVE_CUDA
