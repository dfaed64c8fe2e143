#include "engine/train/checkpoint_hook.h"

#include <utility>
#include <vector>

#include "core/error.h"
#include "engine/parallel/comm.h"
#include "io/free_space.h"

namespace thaw {

int64_t checkpoint_bytes(const ModelState<float>& state, const Optimizer<float>& optimizer) {
  int64_t floats = 0;
  for (const auto& t : state.values) floats += t.numel();
  for (const auto& [name, values] : optimizer.state()) floats += static_cast<int64_t>(values.size());
  constexpr int64_t kHeaderAllowance = 1 << 20;  // JSON header and metadata: tensor names, hashes
  return floats * static_cast<int64_t>(sizeof(float)) + kHeaderAllowance;
}

int64_t planned_checkpoint_bytes(const Graph& g, const Plan& plan, const OptimizerConfig& oc) {
  int64_t floats = 0;
  for (const auto& t : g.tensors) floats += shape_numel(t.shape);
  const int64_t slots = oc.kind == OptimizerConfig::Kind::AdamW ? 2 : (oc.momentum > 0 ? 1 : 0);
  floats += slots * plan.trainable_parameter_count(g);
  return floats * static_cast<int64_t>(sizeof(float)) + (int64_t{1} << 20);
}

void validate_checkpoint_policy(const CheckpointPolicy& p, int64_t start_step) {
  if (p.every < 0)
    fail_user("--checkpoint-every: expected a number of steps >= 0 (0: each epoch's end), got ", p.every);
  if (p.keep < 1) fail_user("--keep-checkpoints: expected at least 1, got ", p.keep);
  if (p.stop_at_step < 0) fail_user("--stop-at-step: expected a step count >= 1, got ", p.stop_at_step);
  if (p.stop_at_step > 0 && p.stop_at_step <= start_step) {
    fail_user("--stop-at-step ", p.stop_at_step, ": the run goes on from step ", start_step, "; give a later step");
  }
}

CheckpointHook::CheckpointHook(std::filesystem::path run_dir, const Graph& g, CheckpointPolicy policy,
                               CheckpointMeta base, const InterruptGuard* interrupt, const TrainCheckpoint* resume_from)
    : dir_(std::move(run_dir)),
      g_(g),
      policy_(policy),
      base_(std::move(base)),
      interrupt_(interrupt),
      resume_from_(resume_from) {
  validate_checkpoint_policy(policy_);
  THAW_CHECK(base_.steps_per_epoch > 0 && base_.total_steps > 0, "a run of ", base_.total_steps, " steps");
}

void CheckpointHook::on_start(Optimizer<float>& optimizer) {
  if (resume_from_ != nullptr) restore_optimizer(*resume_from_, optimizer);
}

bool CheckpointHook::due(const TrainProgress& p) const {
  if (policy_.every > 0) return p.steps_done % policy_.every == 0;
  return p.epoch_steps_done == base_.steps_per_epoch;
}

bool CheckpointHook::after_step(const TrainProgress& p, HostState& host, Comm* comm) {
  int32_t sig = interrupt_ != nullptr ? interrupt_->signal_received() : 0;
  if (comm != nullptr && comm->size() > 1) {
    // The signal may reach one rank only, or two ranks on either side of a step: the stop is
    // decided from every rank's flag after the same step.
    std::vector<int32_t> all(static_cast<size_t>(comm->size()));
    all_gather(*comm, &sig, all.data(), sizeof sig, "the stop flags");
    sig = 0;
    for (int32_t s : all) {
      if (s != 0) {
        sig = s;
        break;
      }
    }
  }
  const bool last = p.steps_done >= base_.total_steps;
  // A stop asked during the last step changes nothing: the run ends as it would have.
  const bool stop = !last && (sig != 0 || (policy_.stop_at_step > 0 && p.steps_done == policy_.stop_at_step));
  const bool writer = comm == nullptr || comm->rank() == 0;
  if (writer && (stop || last || due(p))) {
    CheckpointMeta meta = base_;
    meta.progress = p;
    const std::filesystem::path path = checkpoint_path(dir_, p.steps_done);
    // Written before the oldest is pruned: room for one more whole checkpoint, or one line saying so.
    check_free_space(dir_, checkpoint_bytes(host.state(), host.optimizer()),
                     cat_str("the checkpoint after step ", p.steps_done));
    write_train_checkpoint(path, g_, host.state(), host.optimizer(), meta);
    prune_checkpoints(dir_, policy_.keep);
    last_checkpoint_ = path;
    last_steps_ = p.steps_done;
  }
  if (writer && stop) {
    stopped_ = true;
    stop_signal_ = sig;
  }
  return stop;
}

}  // namespace thaw
