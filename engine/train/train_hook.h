#pragma once
// The training loop's stop-and-resume points. When TrainConfig::hook is set, train()
// (engine/train/trainer.cc) calls it once before the first step and after every step, after the
// StepObserver. The checkpoint writer (engine/train/train_checkpoint.h) is its implementation; the loop
// itself knows nothing of files or signals.
#include <cstdint>
#include <functional>
#include <utility>

#include "engine/model/model_state.h"
#include "engine/optim/optimizer.h"

namespace thaw {

class Comm;

// Where a run stands after a step.
struct TrainProgress {
  int64_t steps_done = 0;        // steps finished over the whole run: the next step's number
  int64_t epoch = 0;             // the epoch of the step just finished
  int64_t epoch_steps_done = 0;  // steps of that epoch finished
  double epoch_loss_sum = 0;     // the sum of their losses (the epoch's mean loss goes on from it)
  double epoch_seconds = 0;      // their wall time, before and after any stop (never in the bits)
};

// The host copies of the model state and the optimizer, as a hook reads them: brought up to date
// on first use (StepRunner::sync_state), so that a step after which nothing is written costs no
// download from the GPU.
class HostState {
 public:
  HostState(const ModelState<float>& state, const Optimizer<float>& optimizer, std::function<void()> sync)
      : state_(state), optimizer_(optimizer), sync_(std::move(sync)) {}
  const ModelState<float>& state() {
    bring();
    return state_;
  }
  const Optimizer<float>& optimizer() {
    bring();
    return optimizer_;
  }

 private:
  void bring() {
    if (sync_) std::exchange(sync_, nullptr)();
  }
  const ModelState<float>& state_;
  const Optimizer<float>& optimizer_;
  std::function<void()> sync_;
};

class TrainHook {
 public:
  virtual ~TrainHook() = default;
  // Before the first step, with the optimizer the loop will use: a resumed run restores its state.
  virtual void on_start(Optimizer<float>& optimizer) = 0;
  // After each step: may write a checkpoint of the host state. Returning true stops the run now,
  // without the epoch's evaluation (TrainSummary::halted). With several ranks every rank calls it
  // with its comm, and all must give the same answer.
  virtual bool after_step(const TrainProgress& progress, HostState& host, Comm* comm) = 0;
};

}  // namespace thaw
