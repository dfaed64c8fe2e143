#pragma once
// The TrainHook that writes checkpoints (engine/train/train_checkpoint.h) into a run folder: every
// `every` steps (0: at the end of each epoch), after the last step, and when the run is asked to
// stop (a SIGINT or SIGTERM seen through an InterruptGuard, or --stop-at-step); then it ends the
// loop. It keeps the `keep` newest checkpoint files and deletes older ones.
//
// Ranks: every rank calls after_step with its comm; a stop asked on any rank is agreed by all
// (one byte gathered from each, every step), so all stop after the same step; rank 0 alone writes.
// One hook may serve the thread ranks of one process: only rank 0 changes its members.
#include <cstdint>
#include <filesystem>

#include "engine/model/plan.h"
#include "engine/train/interrupt.h"
#include "engine/train/train_checkpoint.h"
#include "engine/train/train_hook.h"
#include "graph/graph.h"

namespace thaw {

struct CheckpointPolicy {
  int64_t every = 0;         // --checkpoint-every: steps between checkpoints; 0: end of each epoch
  int64_t keep = 2;          // --keep-checkpoints: newest files kept (>= 1)
  int64_t stop_at_step = 0;  // --stop-at-step: > 0 stops (with a checkpoint) once this many steps are done
};

// UserErrors naming --checkpoint-every, --keep-checkpoints or --stop-at-step (which must lie
// after `start_step`, the steps a resumed run starts with).
// The bytes of a checkpoint of this state and optimizer (tensors, optimizer state, a header
// allowance), checked against the free space before each is written; and the same before training,
// from the plan and the optimizer's kind.
int64_t checkpoint_bytes(const ModelState<float>& state, const Optimizer<float>& optimizer);
int64_t planned_checkpoint_bytes(const Graph& g, const Plan& plan, const OptimizerConfig& oc);

void validate_checkpoint_policy(const CheckpointPolicy& policy, int64_t start_step = 0);

class CheckpointHook final : public TrainHook {
 public:
  // `base` gives the run's identity and shape (progress is filled in per checkpoint).
  // `interrupt` may be null (no signal handling); `resume_from`, when set, must outlive the hook:
  // its optimizer state is restored in on_start.
  CheckpointHook(std::filesystem::path run_dir, const Graph& g, CheckpointPolicy policy, CheckpointMeta base,
                 const InterruptGuard* interrupt, const TrainCheckpoint* resume_from = nullptr);

  void on_start(Optimizer<float>& optimizer) override;
  bool after_step(const TrainProgress& progress, HostState& host, Comm* comm) override;

  // After train(): whether the hook stopped the run, because of which signal (0: --stop-at-step).
  bool stopped() const { return stopped_; }
  int stop_signal() const { return stop_signal_; }
  // The last checkpoint written (empty when none) and its step count.
  const std::filesystem::path& last_checkpoint() const { return last_checkpoint_; }
  int64_t last_checkpoint_steps() const { return last_steps_; }

 private:
  bool due(const TrainProgress& p) const;

  std::filesystem::path dir_;
  const Graph& g_;
  CheckpointPolicy policy_;
  CheckpointMeta base_;
  const InterruptGuard* interrupt_;
  const TrainCheckpoint* resume_from_;
  bool stopped_ = false;
  int stop_signal_ = 0;
  std::filesystem::path last_checkpoint_;
  int64_t last_steps_ = 0;
};

}  // namespace thaw
