#include "engine/trainer.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "engine/batch.h"
#include "engine/evaluate.h"
#include "engine/feature_cache.h"
#include "engine/loader.h"
#include "engine/skip_log.h"
#include "engine/progress.h"
#include "engine/train_hook.h"
#include "engine/step_runner.h"
#include "engine/train_step.h"

namespace thaw {

namespace {

std::string hex_bits(double v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(std::bit_cast<uint64_t>(v)));
  return buf;
}

}  // namespace

int64_t planned_steps(const TrainConfig& cfg, int64_t train_size) {
  const int64_t total = train_size / cfg.batch_size * cfg.epochs;
  return cfg.max_steps > 0 ? std::min(total, cfg.max_steps) : total;
}

TrainSummary train(const Graph& g, ModelState<float>& state, const Dataset& train_data, const Dataset* val_data,
                   const TrainConfig& cfg, std::ostream& log, StepObserver* observer) {
  if (cfg.batch_size < 1) fail_user("--batch-size: expected at least 1, got ", cfg.batch_size);
  if (cfg.epochs < 1) fail_user("--epochs: expected at least 1, got ", cfg.epochs);
  if (train_data.num_classes() > g.num_classes) {
    fail_user("--classes: the data has ", train_data.num_classes(), " classes, the model only ", g.num_classes);
  }
  if (!cfg.class_weights.empty() && static_cast<int64_t>(cfg.class_weights.size()) != g.num_classes) {
    fail_user("--class-weights: expected ", g.num_classes, " values, got ", cfg.class_weights.size());
  }
  const int64_t per_epoch = train_data.size() / cfg.batch_size;  // the last partial batch is dropped
  if (per_epoch < 1) {
    fail_user("--batch-size: ", cfg.batch_size, " is larger than the training set (", train_data.size(), " samples)");
  }
  const int64_t total = planned_steps(cfg, train_data.size());

  const Plan plan = make_plan(g, cfg.freeze_block, cfg.bn);
  const std::unique_ptr<StepRunner> runner = make_step_runner(g, plan, state, cfg);  // CPU, or --device cuda
  StepRunner& train_step = *runner;
  THAW_CHECK(cfg.start_step >= 0 && cfg.start_step <= total, "start at step ", cfg.start_step, " of ", total);
  if (cfg.hook) cfg.hook->on_start(train_step.optimizer());
  LrScheduleConfig sched = cfg.schedule;
  sched.total_steps = total;
  validate_lr_schedule(sched);

  std::unique_ptr<std::ofstream> metrics;
  if (!cfg.out_dir.empty()) {
    metrics = std::make_unique<std::ofstream>(cfg.out_dir / "metrics.jsonl",
                                              cfg.start_step > 0 ? std::ios::app : std::ios::trunc);
    if (!*metrics) fail_user("cannot write ", (cfg.out_dir / "metrics.jsonl").string());
  }

  // The frozen part's output, computed once per sample (engine/feature_cache.h).
  const int64_t epochs_here = total > cfg.start_step ? (total - 1) / per_epoch - cfg.start_step / per_epoch + 1 : 0;
  const std::unique_ptr<FeatureCache> cache = make_feature_cache(g, plan, state, cfg, epochs_here);
  TrainSummary summary;
  summary.trainable_parameters = plan.trainable_parameter_count(g);
  Tensor<float> x;
  std::vector<int32_t> labels;
  int64_t step = cfg.start_step;
  bool stop = false, halt = false;
  // A resumed run keeps the list of what its first part skipped.
  SkipLog skips(cfg.out_dir.empty() ? std::filesystem::path() : cfg.out_dir / "skipped.txt", &log, cfg.start_step > 0);
  // Each rank decodes only its own shards' samples (engine/shards.h, rank_rows), except with
  // --on-bad-image skip: there a skipped sample's stand-in may come from another rank's rows, and
  // rank 0 lists every skip and hashes the whole batch into the run record, so every rank loads
  // the whole batch and TrainStep picks its rows.
  const ShardLayout& layout = train_step.layout();
  const bool own_rows = layout.ranks > 1 && cfg.loader.on_bad_image == BadImagePolicy::Fail;
  for (int64_t epoch = step / per_epoch; epoch < cfg.epochs && step < total && !stop && !halt; ++epoch) {
    const std::vector<int64_t> order = epoch_order(train_data.size(), cfg.seed, epoch);
    const int64_t first = step - epoch * per_epoch;  // > 0 only where a resumed run starts
    const int64_t steps_here = std::min(per_epoch, first + total - step);
    std::vector<std::vector<int64_t>> batches = batches_from(order, cfg.batch_size, steps_here);
    batches.erase(batches.begin(), batches.begin() + first);
    BatchLoader loader(train_data, own_rows ? rank_rows(layout, batches) : batches, g.input_size,
                       LoadMode::training(epoch), reporting_skips(cfg.loader, skips, "train"));
    Progress bar(log, cat_str("epoch ", epoch + 1, "/", cfg.epochs), steps_here, cfg.interactive);
    EpochResult er;
    er.epoch = epoch;
    const auto t0 = std::chrono::steady_clock::now();
    double loss_sum = first > 0 ? cfg.start_epoch_loss_sum : 0;
    int64_t s = first;
    for (; s < steps_here && !stop && !halt; ++s, ++step) {
      const std::vector<int64_t>& rows = loader.next_into(x, labels).indices;
      const std::vector<int64_t>& idx = own_rows ? batches[static_cast<size_t>(s - first)] : rows;  // the whole batch
      const int64_t from = own_rows ? layout.first_sample() : 0;
      const double lr = lr_at(sched, step);
      const double loss =
          cache && cfg.cache_train
              ? train_step.run({&cache->boundary_batch(train_data, rows, x), labels, from, cache->boundary()}, step, lr)
              : train_step.run({&x, labels, from}, step, lr);
      loss_sum += loss;
      if (metrics) {
        nlohmann::json line = {{"step", step}, {"epoch", epoch}, {"lr", lr}, {"loss", loss}, {"loss_bits", hex_bits(loss)}};
        *metrics << line.dump() << '\n';
      }
      if (observer) stop = !observer->on_step({step, epoch, lr, loss, idx, train_step.params()});
      bar.update(s + 1, (s + 1) * cfg.batch_size, loss);
      if (cfg.hook) {
        halt = cfg.hook->after_step({step + 1, epoch, s + 1, loss_sum}, state, train_step.optimizer(), cfg.comm);
      }
    }
    er.steps = s;
    er.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    er.train_loss = loss_sum / static_cast<double>(s);
    er.images_per_s = static_cast<double>((s - first) * cfg.batch_size) / er.seconds;
    bar.finish();
    if (halt) break;  // stopped to be resumed: no evaluation, the epoch is not over
    if (val_data) {
      const auto e0 = std::chrono::steady_clock::now();
      const EvalResult ev = evaluate(g, state, *val_data, cfg.eval_batch_size, cfg.eval_limit, &log, cfg.interactive,
                                     reporting_skips(cfg.loader, skips, "val"), cfg.cache_eval ? cache.get() : nullptr);
      er.val_loss = ev.loss;
      er.val_accuracy = ev.accuracy;
      er.eval_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - e0).count();
      log << "epoch " << epoch + 1 << ": train loss " << er.train_loss << ", held-out loss " << ev.loss
          << ", held-out accuracy " << ev.accuracy * 100 << "% on " << ev.count << " samples\n";
    }
    if (metrics) {
      nlohmann::json line = {{"epoch_end", epoch},       {"train_loss", er.train_loss}, {"seconds", er.seconds},
                             {"images_per_s", er.images_per_s}, {"val_loss", er.val_loss},     {"val_accuracy", er.val_accuracy},
                             {"eval_seconds", er.eval_seconds}};
      *metrics << line.dump() << '\n' << std::flush;
    }
    summary.epochs.push_back(er);
  }
  if (cache) {
    const FeatureCacheStats& cs = cache->stats();
    log << "feature cache after " << g.blocks[g.nodes[cache->boundary()].block].name << ": " << cs.computed << " samples computed, "
        << cs.reused << " reused; " << (cs.memory_bytes >> 20) << " MiB in memory, " << (cs.disk_bytes >> 20)
        << " MiB on disk\n";
  }
  summary.steps = step;
  summary.halted = halt;
  return summary;
}

}  // namespace thaw
