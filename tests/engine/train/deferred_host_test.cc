// The loop asks for host copies wherever it reads them (StepRunner::sync_params, sync_state): a step
// that, like the GPU's, trains private copies, fills the host only when asked and has the observer
// of the step before called during its own work (run_overlapping) must give the run record's
// values, every checkpoint's state and optimizer, the held-out losses, the best-weights observer's
// state and the final weights bit for bit as the plain CPU step does, through an unfreezing; it is
// asked for the whole state only where something reads it; an observer's stop comes one step
// later; the next batch is handed over (StepRunner::stage) during the step before, untouched until
// its own step; and a batch that cannot be read stops training after the same steps.
#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.h"
#include "engine/model/state_hash.h"
#include "engine/train/epoch_observer.h"
#include "engine/train/step_runner.h"
#include "engine/train/train_hook.h"
#include "engine/train/trainer.h"
#include "graph/inception_v4.h"
#include "tests/support/synthetic_dataset.h"

namespace thaw {
namespace {

// A TrainStep on a private ModelState ("the device"); the host copies move only in sync_*.
class DeferredHostStep final : public StepRunner {
 public:
  struct Calls {
    int params = 0, state = 0;
    int stages = 0, staged_runs = 0, staged_changed = 0;
  };
  DeferredHostStep(const Graph& g, const Plan& plan, ModelState<float>& host, const TrainConfig& cfg, Calls& calls)
      : host_(host), device_(host), step_(g, plan, device_, cfg), calls_(calls) {
    std::vector<ParamRef<float>> refs;
    for (int t : plan.trainable_tensors) {
      host_grads_.emplace_back(g.tensors[t].shape);
      refs.push_back({g.tensors[t].name, host.values[t].data(), host_grads_.back().data(), host.values[t].numel(),
                      g.tensors[t].role == TensorRole::Weight});
    }
    host_opt_ = std::make_unique<Optimizer<float>>(cfg.optimizer, refs);
    // Seen before any sync: NaN, so that a line made from it cannot pass for a real one.
    for (const ParamRef<float>& r : step_.params()) {
      snapshots_.emplace_back(2 * r.size, std::nanf(""));
      std::vector<float>& s = snapshots_.back();
      observed_.push_back({r.name, s.data(), s.data() + r.size, r.size, r.decay});
    }
  }

  // What the loop hands over to be moved ahead of its step, as the GPU step would copy it.
  void stage(const StepBatch& next) override {
    ++calls_.stages;
    staged_ = contents(next);
  }
  double run(const StepBatch& batch, int64_t step, double lr) override {
    if (batch.staged) {
      ++calls_.staged_runs;
      if (contents(batch) != staged_) ++calls_.staged_changed;
      staged_.clear();
    }
    if (!uploaded_) {  // a resumed or unfrozen run's optimizer state, as the GPU step uploads it
      copy_optimizer(*host_opt_, step_.optimizer());
      uploaded_ = true;
    }
    return step_.run(batch, step, lr);
  }
  // The step's work first: the deferred observer must read the snapshot, not the live values.
  double run_overlapping(const StepBatch& batch, int64_t step, double lr,
                         const std::function<void()>& meanwhile) override {
    const double loss = run(batch, step, lr);
    if (meanwhile) meanwhile();
    return loss;
  }
  bool overlaps_host() const override { return true; }
  Optimizer<float>& optimizer() override { return *host_opt_; }
  std::span<const ParamRef<float>> params() const override { return observed_; }
  const ShardLayout& layout() const override { return step_.layout(); }
  // As the GPU step: the snapshot is taken when the download starts, right after the step; the
  // loop completes it (sync_params) only after the next step has run.
  void begin_sync_params() override {
    take_snapshot();
    snapshot_pending_ = true;
  }
  void sync_params() override {
    if (!std::exchange(snapshot_pending_, false)) take_snapshot();
  }
  void take_snapshot() {
    ++calls_.params;
    const std::span<const ParamRef<float>> live = step_.params();
    for (size_t i = 0; i < live.size(); ++i) {
      std::memcpy(snapshots_[i].data(), live[i].value, sizeof(float) * live[i].size);
      std::memcpy(snapshots_[i].data() + live[i].size, live[i].grad, sizeof(float) * live[i].size);
    }
  }
  void sync_state() override {
    ++calls_.state;
    for (size_t t = 0; t < device_.values.size(); ++t) host_.values[t] = device_.values[t];
    host_.batches_tracked = device_.batches_tracked;
    const std::span<const ParamRef<float>> live = step_.params();
    for (size_t i = 0; i < live.size(); ++i) std::memcpy(host_grads_[i].data(), live[i].grad, sizeof(float) * live[i].size);
    copy_optimizer(step_.optimizer(), *host_opt_);
  }

 private:
  static std::string contents(const StepBatch& b) {
    std::string out(reinterpret_cast<const char*>(b.x->data()), sizeof(float) * static_cast<size_t>(b.x->numel()));
    out.append(reinterpret_cast<const char*>(b.labels.data()), b.labels.size_bytes());
    out.append(reinterpret_cast<const char*>(b.samples.data()), b.samples.size_bytes());
    return out + " " + std::to_string(b.first);
  }
  static void copy_optimizer(Optimizer<float>& from, Optimizer<float>& to) {
    std::map<std::string, std::span<float>> dst = to.state();
    for (const auto& [name, span] : from.state()) std::copy(span.begin(), span.end(), dst.at(name).begin());
    to.set_step_count(from.step_count());
  }

  ModelState<float>& host_;
  ModelState<float> device_;
  TrainStep step_;
  Calls& calls_;
  std::vector<Tensor<float>> host_grads_;
  std::unique_ptr<Optimizer<float>> host_opt_;
  std::vector<std::vector<float>> snapshots_;
  std::vector<ParamRef<float>> observed_;
  std::string staged_;
  bool uploaded_ = false;
  bool snapshot_pending_ = false;
};

// One sample's image cannot be read: the loader fails the batch that holds it.
class UnreadableSample final : public Dataset {
 public:
  UnreadableSample(const Dataset& data, int64_t bad) : data_(data), bad_(bad) {}
  int64_t size() const override { return data_.size(); }
  int64_t num_classes() const override { return data_.num_classes(); }
  std::vector<std::string> class_names() const override { return data_.class_names(); }
  int32_t label(int64_t i) const override { return data_.label(i); }
  void load(int64_t i, int64_t size, LoadMode mode, float* chw) const override {
    if (i == bad_) fail_user("sample ", i, ": unreadable");
    data_.load(i, size, mode, chw);
  }
  std::string describe() const override { return "unreadable sample " + std::to_string(bad_); }

 private:
  const Dataset& data_;
  int64_t bad_;
};

// Everything the loop hands out, as its readers see it.
struct Seen {
  std::vector<std::string> lines;  // per step: loss, param checksum and gradient norm bits
  std::vector<std::string> hook;   // per step the hook reads: state hash and optimizer state bytes
  std::vector<std::string> epochs; // per epoch: held-out loss bits and the observer's state hash
  std::string final_state;
  std::string error;  // what stopped training, if anything did
};

// The optimizer's step count, state names and state bytes.
std::string optimizer_bytes(const Optimizer<float>& opt) {
  std::string out = std::to_string(opt.step_count());
  for (const auto& [name, span] : opt.state()) {
    out += " " + name + ":";
    out.append(reinterpret_cast<const char*>(span.data()), span.size_bytes());
  }
  return out;
}

struct Recorder final : StepObserver, TrainHook, EpochObserver {
  const Graph* g = nullptr;
  Seen seen;
  uint64_t chain = 0;
  int64_t read_every = 1;  // the hook reads the state after every read_every-th step; 0: never
  int64_t stop_after = -1;  // >= 0: on_step asks to stop after this step
  bool on_step(const StepInfo& info) override {
    chain = param_checksum(chain, info.params, DigestRule::blocked);
    std::string indices;
    for (int64_t i : info.indices) indices += " " + std::to_string(i);
    seen.lines.push_back(std::to_string(info.step) + " " + double_bits_hex(info.loss) + " " + hex64(chain) + " " +
                         double_bits_hex(grad_norm(info.params, DigestRule::blocked)) + indices);
    return info.step != stop_after;
  }
  void on_start(Optimizer<float>& /*optimizer*/) override {}
  bool after_step(const TrainProgress& p, HostState& host, Comm* /*comm*/) override {
    if (read_every > 0 && p.steps_done % read_every == 0) {
      seen.hook.push_back(state_sha256(*g, host.state()) + " " + optimizer_bytes(host.optimizer()));
    }
    return false;
  }
  void on_epoch_end(const EpochResult& e, bool /*best*/, const ModelState<float>& state) override {
    seen.epochs.push_back(double_bits_hex(e.val_loss) + " " + state_sha256(*g, state));
  }
};

// bad >= 0: that training sample cannot be read; the error's message goes into Seen::error.
Seen train_with(bool deferred, int64_t read_every, DeferredHostStep::Calls* calls = nullptr, int64_t stop_after = -1,
                int64_t bad = -1) {
  const Graph g = build_inception_v4(75, 3);
  ModelState<float> state = ModelState<float>::random(g, 3);
  const testkit::SyntheticDataset synthetic(5, 6), val_data(6, 6);  // 3 steps per epoch
  const UnreadableSample train_data(synthetic, bad);
  TrainConfig cfg;
  cfg.batch_size = 2;
  cfg.epochs = 3;
  cfg.seed = 11;
  cfg.freeze_block = g.find_block("mixed_7c");
  cfg.unfreeze = {{0, g.find_block("mixed_7c")}, {2, g.find_block("mixed_7b")}};
  cfg.optimizer.kind = OptimizerConfig::Kind::AdamW;
  cfg.schedule.base_lr = 1e-3;
  cfg.eval_batch_size = 3;
  DeferredHostStep::Calls unused;
  if (deferred) {
    cfg.step_maker = [&](const Graph& gg, const Plan& plan, ModelState<float>& s, const TrainConfig& c) {
      return std::make_unique<DeferredHostStep>(gg, plan, s, c, calls ? *calls : unused);
    };
  }
  Recorder rec;
  rec.g = &g;
  rec.read_every = read_every;
  rec.stop_after = stop_after;
  cfg.hook = &rec;
  cfg.epoch_observer = &rec;
  std::ostringstream log;
  try {
    train(g, state, train_data, &val_data, cfg, log, &rec);
  } catch (const UserError& e) {
    rec.seen.error = e.what();
  }
  rec.seen.final_state = state_sha256(g, state);
  return rec.seen;
}

TEST(DeferredHost, EveryReaderSeesWhatThePlainCpuStepGives) {
  const Seen plain = train_with(false, 1);
  const Seen deferred = train_with(true, 1);
  ASSERT_EQ(plain.lines.size(), 9u);  // 3 steps per epoch, 3 epochs
  EXPECT_EQ(deferred.lines, plain.lines);
  ASSERT_EQ(plain.hook.size(), 9u);
  EXPECT_EQ(deferred.hook, plain.hook);
  ASSERT_EQ(plain.epochs.size(), 3u);
  EXPECT_EQ(deferred.epochs, plain.epochs);
  EXPECT_EQ(deferred.final_state, plain.final_state);
  // Training moved the weights: the comparisons are not between untouched states.
  EXPECT_NE(plain.hook.front(), plain.hook.back());
}

TEST(DeferredHost, TheWholeStateIsFetchedOnlyWhereSomethingReadsIt) {
  DeferredHostStep::Calls calls;
  const Seen never = train_with(true, 0, &calls);
  EXPECT_EQ(calls.params, 9);  // the record's line, every step
  // The end of each epoch (evaluation, the epoch observer); the unfreezing at epoch 2 reads the
  // state the end of epoch 1 fetched, and the end of training that of the last epoch.
  EXPECT_EQ(calls.state, 3);
  DeferredHostStep::Calls every_fourth;
  train_with(true, 4, &every_fourth);
  EXPECT_EQ(every_fourth.state, 3 + 2);  // and after steps 4 and 8, for the hook
  EXPECT_EQ(never.lines.size(), 9u);
}

TEST(DeferredHost, EachBatchButAnEpochsFirstIsStagedDuringTheStepBefore) {
  DeferredHostStep::Calls calls;
  train_with(true, 0, &calls);
  EXPECT_EQ(calls.stages, 6);  // steps 2 and 3 of each of 3 epochs
  EXPECT_EQ(calls.staged_runs, 6);
  EXPECT_EQ(calls.staged_changed, 0);  // the loop left each staged batch as it was handed over
}

// The read-ahead meets the unreadable sample one step early; the error is raised where the plain
// loop raises it, after the same record lines.
TEST(DeferredHost, AnUnreadableSampleStopsTrainingAfterTheSameSteps) {
  for (int64_t bad : {0, 3}) {
    const Seen plain = train_with(false, 0, nullptr, -1, bad);
    const Seen deferred = train_with(true, 0, nullptr, -1, bad);
    EXPECT_NE(plain.error.find("unreadable"), std::string::npos) << plain.error;
    EXPECT_EQ(deferred.error, plain.error);
    EXPECT_EQ(deferred.lines, plain.lines);
    EXPECT_LT(plain.lines.size(), 3u);  // it stopped within the first epoch
  }
}

TEST(DeferredHost, AStopAskedByTheObserverComesOneStepLater) {
  const Seen plain = train_with(false, 0, nullptr, 4);
  const Seen deferred = train_with(true, 0, nullptr, 4);
  ASSERT_EQ(plain.lines.size(), 5u);  // steps 0 to 4
  ASSERT_EQ(deferred.lines.size(), 6u);
  EXPECT_EQ(std::vector<std::string>(deferred.lines.begin(), deferred.lines.begin() + 5), plain.lines);
}

}  // namespace
}  // namespace thaw
