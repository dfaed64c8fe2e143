#include "engine/train/trainer.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/progress.h"
#include "engine/data/batch.h"
#include "engine/data/loader.h"
#include "engine/data/skip_log.h"
#include "engine/infer/eval_metrics.h"
#include "engine/infer/evaluate.h"
#include "engine/train/best_epoch.h"
#include "engine/train/epoch_observer.h"
#include "engine/infer/feature_cache.h"
#include "engine/train/loss_smoother.h"
#include "engine/train/metrics_log.h"
#include "engine/train/step_runner.h"
#include "engine/train/train_hook.h"
#include "engine/train/unfreeze.h"

namespace thaw {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// UserErrors for a run that cannot start; returns the steps per epoch (the last partial batch is dropped).
int64_t check_run(const Graph& g, const Dataset& train_data, const TrainConfig& cfg) {
  if (cfg.batch_size < 1) fail_user("--batch-size: expected at least 1, got ", cfg.batch_size);
  if (cfg.epochs < 1) fail_user("--epochs: expected at least 1, got ", cfg.epochs);
  if (train_data.num_classes() > g.num_classes) {
    fail_user("--classes: the data has ", train_data.num_classes(), " classes, the model only ", g.num_classes);
  }
  if (!cfg.class_weights.empty() && static_cast<int64_t>(cfg.class_weights.size()) != g.num_classes) {
    fail_user("--class-weights: expected ", g.num_classes, " values, got ", cfg.class_weights.size());
  }
  const int64_t per_epoch = train_data.size() / cfg.batch_size;
  if (per_epoch < 1) {
    fail_user("--batch-size: ", cfg.batch_size, " is larger than the training set (", train_data.size(), " samples)");
  }
  return per_epoch;
}

std::unique_ptr<StepRunner> make_step(const Graph& g, const Plan& plan, ModelState<float>& state,
                                      const TrainConfig& cfg) {
  return cfg.step_maker ? cfg.step_maker(g, plan, state, cfg) : make_step_runner(g, plan, state, cfg);
}

// One training run's loop: epochs of batches through the step, an evaluation after each epoch.
class TrainLoop {
 public:
  TrainLoop(const Graph& g, ModelState<float>& state, const Dataset& train_data, const Dataset* val_data,
            const TrainConfig& cfg, std::ostream& log, StepObserver* observer)
      : g_(g),
        state_(state),
        train_data_(train_data),
        val_data_(val_data),
        cfg_(cfg),
        log_(log),
        observer_(observer),
        per_epoch_(check_run(g, train_data, cfg)),
        total_(planned_steps(cfg, train_data.size())),
        // A resumed run starts with the plan of its last step's epoch: its checkpoint's optimizer
        // state is that plan's; an unfreezing due at the epoch it resumes in comes in run().
        plan_(std::make_unique<const Plan>(make_plan(
            g, freeze_block_at(cfg.unfreeze, cfg.freeze_block, cfg.start_step > 0 ? (cfg.start_step - 1) / per_epoch_ : 0),
            cfg.bn))),
        step_(make_step(g, *plan_, state, cfg)),  // CPU, or --device cuda
        // A resumed run keeps the list of what its first part skipped.
        skips_(cfg.out_dir.empty() ? std::filesystem::path() : cfg.out_dir / "skipped.txt", &log, cfg.start_step > 0),
        rows_(rank_rows(step_->layout(), cfg.loader.on_bad_image)) {
    THAW_CHECK(cfg.start_step >= 0 && cfg.start_step <= total_, "start at step ", cfg.start_step, " of ", total_);
    if (cfg.hook) cfg.hook->on_start(step_->optimizer());
    sched_ = cfg.schedule;
    sched_.total_steps = total_;
    validate_lr_schedule(sched_);
    if (!cfg.out_dir.empty()) metrics_ = std::make_unique<MetricsLog>(cfg.out_dir, cfg.start_step > 0);
    // The frozen part's output, computed once per sample (engine/infer/feature_cache.h).
    const int64_t epochs_here =
        total_ > cfg.start_step ? (total_ - 1) / per_epoch_ - cfg.start_step / per_epoch_ + 1 : 0;
    cache_ = make_feature_cache(g, *plan_, state, cfg, std::min(epochs_here, phase_epochs(cfg.start_step / per_epoch_)));
    summary_.trainable_parameters = plan_->trainable_parameter_count(g);
    step_index_ = cfg.start_step;
    best_.replay(cfg.epochs_before);
  }

  TrainSummary run() {
    for (int64_t epoch = step_index_ / per_epoch_; epoch < cfg_.epochs && step_index_ < total_ && !stop_ && !halt_;
         ++epoch) {
      unfreeze_for(epoch);
      EpochResult er = train_epoch(epoch);
      if (halt_) break;  // stopped to be resumed: no evaluation, the epoch is not over
      bring_state();     // evaluation and the epoch observer read the weights
      if (val_data_) evaluate_epoch(er);
      if (metrics_) metrics_->epoch_end(er);
      // Without held-out data (replay) no epoch can be judged, and none stops the run early.
      const bool best = val_data_ != nullptr && best_.update(er);
      if (cfg_.epoch_observer) cfg_.epoch_observer->on_epoch_end(er, best, state_);
      summary_.epochs.push_back(er);
      if (val_data_ && best_.exhausted() && epoch + 1 < cfg_.epochs && step_index_ < total_) {
        log_ << "early stop after epoch " << epoch + 1 << ": " << select_metric_name(cfg_.selection.metric)
             << " has not improved for " << cfg_.selection.patience << " epochs (best: epoch "
             << best_.best_epoch() + 1 << ", " << best_.best_value() << ")\n";
        summary_.stopped_early = true;
        break;
      }
    }
    if (cache_) report_cache();
    report_step_cache();
    bring_state();  // the caller reads the final weights
    summary_.steps = step_index_;
    summary_.halted = halt_;
    summary_.gpu_plans = step_->plan_choices();
    return summary_;
  }

 private:
  // Epochs from `epoch` until the freeze point next changes (or the run ends): what a feature
  // cache at this boundary is read for.
  int64_t phase_epochs(int64_t epoch) const {
    int64_t end = cfg_.epochs;
    for (const UnfreezePoint& p : cfg_.unfreeze) {
      if (p.epoch > epoch) end = std::min(end, p.epoch);
    }
    return end - epoch;
  }

  // --unfreeze: the plan and step of `epoch`'s freeze point. State of tensors trainable before
  // carries over by name; the newly trainable start from zero, as at a first step.
  void unfreeze_for(int64_t epoch) {
    const int block = freeze_block_at(cfg_.unfreeze, cfg_.freeze_block, epoch);
    if (block == plan_->freeze_block) return;
    bring_state();  // the new step starts from the weights and optimizer state of the old
    auto plan = std::make_unique<const Plan>(make_plan(g_, block, cfg_.bn));
    std::unique_ptr<StepRunner> step = make_step(g_, *plan, state_, cfg_);
    const Optimizer<float>& from = step_->optimizer();
    const std::map<std::string, std::span<const float>> old_state = from.state();
    for (auto& [name, span] : step->optimizer().state()) {
      const auto it = old_state.find(name);
      if (it != old_state.end()) std::copy(it->second.begin(), it->second.end(), span.begin());
    }
    step->optimizer().set_step_count(from.step_count());
    if (cache_) report_cache();
    report_step_cache();
    cache_.reset();
    step_ = std::move(step);  // the old step goes before the plan it refers to
    plan_ = std::move(plan);
    cache_ = make_feature_cache(g_, *plan_, state_, cfg_, phase_epochs(epoch));
    summary_.trainable_parameters = plan_->trainable_parameter_count(g_);
    log_ << "epoch " << epoch + 1 << ": unfreezing, frozen through "
         << (block < 0 ? std::string("none") : g_.blocks[static_cast<size_t>(block)].name) << " now ("
         << summary_.trainable_parameters << " trainable parameters)\n";
  }

  EpochResult train_epoch(int64_t epoch) {
    const std::vector<int64_t> order = epoch_order(train_data_.size(), cfg_.seed, epoch);
    const int64_t first = step_index_ - epoch * per_epoch_;  // > 0 only where a resumed run starts
    const int64_t steps_here = std::min(per_epoch_, first + total_ - step_index_);
    std::vector<std::vector<int64_t>> batches = batches_from(order, cfg_.batch_size, steps_here);
    batches.erase(batches.begin(), batches.begin() + first);
    BatchLoader loader(train_data_, select_rows(rows_, batches), g_.input_size, LoadMode::training(epoch),
                       reporting_skips(cfg_.loader, skips_, "train"));
    Progress bar(log_, cat_str("epoch ", epoch + 1, "/", cfg_.epochs), steps_here, cfg_.interactive);
    EpochResult er;
    er.epoch = epoch;
    const auto t0 = std::chrono::steady_clock::now();
    double loss_sum = first > 0 ? cfg_.start_epoch_loss_sum : 0;
    const double seconds_before = first > 0 ? cfg_.start_epoch_seconds : 0;  // before a stop, for the summary
    int64_t s = first;
    // A step whose device work runs without the host is handed the next batch during that work.
    const bool read_ahead = step_->overlaps_host() && !(cache_ && cfg_.cache_train);
    ahead_.ready = false;
    ahead_.error = nullptr;
    for (; s < steps_here && !stop_ && !halt_; ++s, ++step_index_) {
      const bool staged = next_batch(loader);
      // The record hashes the whole batch, whichever of its rows this rank loaded.
      const std::vector<int64_t>& batch = rows_.whole_batch() ? loaded_ : batches[static_cast<size_t>(s - first)];
      std::function<void()> fetch;
      if (read_ahead && s + 1 < steps_here) fetch = [this, &loader] { read_ahead_from(loader); };
      const double loss = train_step(loaded_, epoch, batch, staged, fetch);
      loss_sum += loss;
      bar.update(s + 1, (s + 1) * cfg_.batch_size, loss);
      if (cfg_.hook) {
        HostState host(state_, step_->optimizer(), [this] { bring_state(); });
        halt_ = cfg_.hook->after_step({step_index_ + 1, epoch, s + 1, loss_sum, seconds_before + seconds_since(t0)},
                                      host, cfg_.comm);
      }
    }
    flush_observer();  // the epoch's last record line, and any stop it asks for
    er.steps = s;
    er.seconds = seconds_before + seconds_since(t0);
    er.train_loss = loss_sum / static_cast<double>(s);
    // A checkpoint from before epoch_seconds was kept has no time for the steps before the stop.
    const int64_t timed = first == 0 || seconds_before > 0 ? s : s - first;
    er.images_per_s = static_cast<double>(timed * cfg_.batch_size) / er.seconds;
    bar.finish();
    return er;
  }

  // The step's batch into x_, labels_ and loaded_: the one read ahead (true: it was staged), or the
  // loader's next. An error the read-ahead met is raised here, where the loader would have raised it,
  // after the record line of the step before.
  bool next_batch(BatchLoader& loader) {
    try {
      if (ahead_.error) std::rethrow_exception(std::exchange(ahead_.error, nullptr));
      if (ahead_.ready) {
        std::swap(x_, ahead_.x);
        std::swap(labels_, ahead_.labels);
        loaded_.swap(ahead_.loaded);
        ahead_.ready = false;
        return true;
      }
      loaded_ = loader.next_into(x_, labels_).indices;
      return false;
    } catch (...) {
      flush_observer();  // the record keeps every step that finished
      throw;
    }
  }

  // The next batch, loaded and staged while the step works; an error is kept for next_batch().
  void read_ahead_from(BatchLoader& loader) {
    try {
      ahead_.loaded = loader.next_into(ahead_.x, ahead_.labels).indices;
      StepBatch next{&ahead_.x, ahead_.labels, rows_.first};
      next.samples = ahead_.loaded;
      step_->stage(next);
      ahead_.ready = true;
    } catch (...) {
      ahead_.error = std::current_exception();
    }
  }

  // One step on the rows just loaded; `batch` is the whole global batch's sample indices; `fetch`
  // (may be empty) reads the next batch ahead during the step's device work.
  double train_step(const std::vector<int64_t>& loaded, int64_t epoch, const std::vector<int64_t>& batch, bool staged,
                    const std::function<void()>& fetch) {
    const double lr = lr_at(sched_, step_index_);
    StepBatch input = cache_ && cfg_.cache_train
                          ? StepBatch{&cache_->boundary_batch(train_data_, loaded, x_), labels_, rows_.first,
                                      cache_->boundary()}
                          : StepBatch{&x_, labels_, rows_.first};
    input.samples = loaded;  // the GPU step's cache keys
    input.staged = staged;
    // The step before's observer runs while this step's device work proceeds (or first, on the
    // CPU), and then the next batch is read ahead (unless the observer asked to stop).
    std::function<void()> meanwhile;
    if (pending_ || fetch) {
      meanwhile = [this, &fetch] {
        flush_observer();
        if (fetch && !stop_) fetch();
      };
    }
    double loss = 0;
    try {
      loss = step_->run_overlapping(input, step_index_, lr, meanwhile);
    } catch (...) {
      flush_observer();  // the record keeps every step that finished
      throw;
    }
    host_current_ = false;
    if (metrics_) metrics_->step(step_index_, epoch, lr, loss);
    if (observer_) observe(epoch, lr, loss, batch);
    if (cfg_.stop_on_divergence > 0) smoother_.add(loss);
    if (cfg_.stop_on_divergence > 0 && smoother_.diverged(cfg_.stop_on_divergence)) {
      log_ << "stopped after step " << step_index_ + 1 << " (lr " << lr << "): the smoothed loss "
           << smoother_.smoothed() << " is above " << cfg_.stop_on_divergence << " x its lowest, " << smoother_.best()
           << "\n";
      summary_.stopped_early = true;
      stop_ = true;
    }
    return loss;
  }

  void evaluate_epoch(EpochResult& er) {
    const auto e0 = std::chrono::steady_clock::now();
    const EvalResult ev =
        evaluate(g_, state_, *val_data_, cfg_.eval_batch_size, cfg_.eval_limit, &log_, cfg_.interactive,
                 reporting_skips(cfg_.loader, skips_, "val"), cfg_.cache_eval ? cache_.get() : nullptr,
                 step_->inference(state_));
    er.val_loss = ev.loss;
    er.val_accuracy = ev.accuracy;
    er.val_balanced_accuracy = balanced_accuracy(ev, g_.num_classes);
    er.val_auc = macro_auc(ev, g_.num_classes);
    er.eval_seconds = seconds_since(e0);
    log_ << "epoch " << er.epoch + 1 << ": train loss " << er.train_loss << ", held-out loss " << ev.loss
         << ", held-out accuracy " << ev.accuracy * 100 << "% on " << ev.count << " samples\n";
  }

  // The observer told of the step just run. Where the step overlaps host work
  // (StepRunner::overlaps_host), the call is kept in pending_ and made during the next step's
  // device work, from the step's parameters downloaded now (its record line is hashed while the
  // device works); a stop it asks for then comes one step later. It is made at the latest before
  // anything reads the host state (a checkpoint's lines are never behind it) and at each epoch's end.
  void observe(int64_t epoch, double lr, double loss, const std::vector<int64_t>& batch) {
    StepInfo info{step_index_, epoch, lr, loss, batch, {}};
    if (!step_->overlaps_host()) {
      step_->sync_params();
      info.params = step_->params();
      stop_ = !observer_->on_step(info);
      return;
    }
    // The download starts now and is waited for when the call is made, behind the next step's
    // passes. The indices are copied: the loader reuses its vector for the next batch.
    step_->begin_sync_params();
    pending_ = [this, info, indices = batch]() mutable {
      step_->sync_params();
      info.params = step_->params();
      info.indices = indices;
      if (!observer_->on_step(info)) stop_ = true;
    };
  }

  void flush_observer() {
    if (pending_) std::exchange(pending_, nullptr)();
  }

  // The host copies of the state and the optimizer brought up to date, once per change
  // (StepRunner::sync_state: a download of everything from a GPU step).
  void bring_state() {
    flush_observer();
    if (host_current_) return;
    step_->sync_state();
    host_current_ = true;
  }

  void report_step_cache() {
    const std::string r = step_->cache_report();
    if (r.empty()) return;
    log_ << "GPU feature cache after " << g_.blocks[g_.nodes[cache_boundary(g_, *plan_)].block].name << ": " << r
         << "\n";
  }

  void report_cache() {
    const FeatureCacheStats& cs = cache_->stats();
    log_ << "feature cache after " << g_.blocks[g_.nodes[cache_->boundary()].block].name << ": " << cs.computed
         << " samples computed, " << cs.reused << " reused; " << (cs.memory_bytes >> 20) << " MiB in memory, "
         << (cs.disk_bytes >> 20) << " MiB on disk\n";
  }

  const Graph& g_;
  ModelState<float>& state_;
  const Dataset& train_data_;
  const Dataset* val_data_;
  const TrainConfig& cfg_;
  std::ostream& log_;
  StepObserver* observer_;
  const int64_t per_epoch_, total_;
  std::unique_ptr<const Plan> plan_;
  std::unique_ptr<StepRunner> step_;
  SkipLog skips_;
  const RankRows rows_;
  LrScheduleConfig sched_;
  std::unique_ptr<MetricsLog> metrics_;
  std::unique_ptr<FeatureCache> cache_;
  BestEpochTracker best_{cfg_.selection};
  LossSmoother smoother_;
  TrainSummary summary_;
  Tensor<float> x_;
  std::vector<int32_t> labels_;
  std::vector<int64_t> loaded_;  // x_'s samples
  // The batch after the running step's, read ahead where the step overlaps host work.
  struct Ahead {
    Tensor<float> x;
    std::vector<int32_t> labels;
    std::vector<int64_t> loaded;
    std::exception_ptr error;  // the loader's (or the stage's), raised by next_batch()
    bool ready = false;
  } ahead_;
  int64_t step_index_ = 0;
  bool stop_ = false, halt_ = false;
  bool host_current_ = true;  // the host copies hold the last step's results
  std::function<void()> pending_;  // observe()'s deferred call
};

}  // namespace

int64_t planned_steps(const TrainConfig& cfg, int64_t train_size) {
  const int64_t total = train_size / cfg.batch_size * cfg.epochs;
  return cfg.max_steps > 0 ? std::min(total, cfg.max_steps) : total;
}

TrainSummary train(const Graph& g, ModelState<float>& state, const Dataset& train_data, const Dataset* val_data,
                   const TrainConfig& cfg, std::ostream& log, StepObserver* observer) {
  return TrainLoop(g, state, train_data, val_data, cfg, log, observer).run();
}

}  // namespace thaw
