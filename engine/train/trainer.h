#pragma once
// The training loop: epochs of shuffled batches, forward/backward over the plan, optimizer step,
// a progress line, a metrics log and an evaluation on held-out data after each epoch.
#include <cstdint>
#include <filesystem>
#include <ostream>
#include <span>
#include <vector>

#include "engine/model/model_state.h"
#include "engine/optim/optimizer.h"
#include "engine/model/plan.h"
#include "engine/train/metrics_log.h"
#include "engine/train/train_config.h"
#include "graph/graph.h"
#include "io/dataset.h"

namespace thaw {

// One step as an observer (run record, replay) sees it, right after the optimizer's update.
struct StepInfo {
  int64_t step = 0;
  int64_t epoch = 0;
  double lr = 0;
  double loss = 0;
  std::span<const int64_t> indices;         // the batch's sample indices, in batch order
  // Trainable tensors in state_dict order: values after the update, gradients of this step.
  std::span<const ParamRef<float>> params;
};

class StepObserver {
 public:
  virtual ~StepObserver() = default;
  // Called after every update; returning false ends training after this step (the epoch's
  // evaluation still runs).
  virtual bool on_step(const StepInfo& info) = 0;
};

struct TrainSummary {
  int64_t steps = 0;
  int64_t trainable_parameters = 0;
  std::vector<EpochResult> epochs;
  bool halted = false;  // the hook stopped the run before its last step (a signal, --stop-at-step)
  bool stopped_early = false;  // --patience epochs without improvement on the best by --select
  // The GPU step's library choices, "problem: engine, knobs and notes" per cuDNN plan and cuBLASLt
  // algorithm (kernels/cuda/plan_cache.h), in problem order; empty on the CPU.
  std::vector<std::string> gpu_plans;
};

// Steps a run makes: whole batches per epoch (the last partial batch is dropped) times epochs,
// capped by max_steps.
int64_t planned_steps(const TrainConfig& cfg, int64_t train_size);

TrainSummary train(const Graph& g, ModelState<float>& state, const Dataset& train_data, const Dataset* val_data,
                   const TrainConfig& cfg, std::ostream& log, StepObserver* observer = nullptr);

}  // namespace thaw
