#include "engine/run/run_training.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "engine/model/weights_io.h"
#include "engine/run/best_weights.h"
#include "engine/run/mlflow_store.h"
#include "engine/run/tensorboard_events.h"
#include "engine/run/record.h"
#include "engine/run/run_lock.h"
#include "engine/run/run_setup.h"
#include "engine/run/run_summary.h"
#include "engine/train/checkpoint_hook.h"
#include "engine/train/interrupt.h"
#include "engine/train/trainer.h"
#include "engine/train/unfreeze.h"
#include "io/left_out_files.h"
#include "io/free_space.h"
#include "io/temp_leftovers.h"

namespace thaw {

namespace {

namespace fs = std::filesystem;

void prepare_out_dir(const fs::path& dir, bool overwrite) {
  std::error_code ec;
  if ((fs::exists(dir / "weights.safetensors", ec) || fs::exists(dir / "record.json", ec)) && !overwrite) {
    fail_user("--out: ", dir.string(), " already holds a run; choose another folder or pass --overwrite");
  }
  fs::create_directories(dir, ec);
  if (ec) fail_user("--out: cannot create ", dir.string(), ": ", ec.message());
}

// Paths in the record are absolute, so that a replay from another working folder finds the same files.
RunConfig with_absolute_paths(RunConfig c) {
  std::error_code ec;
  if (!c.weights.empty()) c.weights = fs::absolute(c.weights).string();
  if (c.data != "fashion-mnist" && fs::exists(c.data, ec)) c.data = fs::absolute(c.data).string();
  if (!c.mlflow.empty()) c.mlflow = fs::absolute(c.mlflow).string();
  if (!c.tensorboard.empty()) c.tensorboard = fs::absolute(c.tensorboard).string();
  return c;
}

// Validated (UserError naming the flag); `start_step`: where a resumed run goes on from.
CheckpointPolicy checkpoint_policy(const RunConfig& config, int64_t stop_at_step, int64_t start_step = 0) {
  CheckpointPolicy p;
  p.every = config.checkpoint_every;
  p.keep = config.keep_checkpoints;
  p.stop_at_step = stop_at_step;
  validate_checkpoint_policy(p, start_step);
  return p;
}

// The checkpoint hook's fixed part for this run; `record` is null on ranks that never write.
CheckpointMeta checkpoint_base(const RunSetup& run, const nlohmann::ordered_json* record) {
  CheckpointMeta m;
  if (record != nullptr) {
    m.run_id = record->value("run_id", "");
    m.run_sha256 = run_identity_sha256(*record);
  }
  m.steps_per_epoch = run.train_data->size() / run.train.batch_size;
  m.total_steps = planned_steps(run.train, run.train_data->size());
  m.seed = run.train.seed;
  return m;
}

// Prints where the run stopped and how to continue it; returns the exit code: 128 + the signal
// for SIGINT / SIGTERM (the shell's convention for a process ended by a signal), 0 for
// --stop-at-step.
int report_stop(const CheckpointHook& hook, int64_t total_steps, const fs::path& run_dir) {
  const int sig = hook.stop_signal();
  std::cerr << "thaw: "
            << (sig != 0 ? cat_str("stopped by ", signal_name(sig)) : std::string("stopped (--stop-at-step)"))
            << " after step " << hook.last_checkpoint_steps() << " of " << total_steps << "; checkpoint "
            << hook.last_checkpoint().string() << "\n"
            << "thaw: continue with: thaw train --resume " << run_dir.string() << "\n";
  return sig != 0 ? 128 + sig : 0;
}

// A run set up and about to train: what every rank holds, and what rank 0 writes.
struct Prepared {
  RunConfig config;  // with absolute paths, or the resumed run's
  RunSetup run;
  std::optional<ResumePoint> point;
  InitialState init;
  CheckpointPolicy policy;
  std::optional<RunFolderLock> lock;  // rank 0's, from before it touches the folder to the end
  nlohmann::ordered_json gpu_ranks;   // RankContext::gpu_ranks, for the record
};

// Under the lock: thaw's own temporaries that a killed process left (io/temp_leftovers.h).
void remove_leftovers(const fs::path& dir) {
  const RemovedLeftovers r = remove_dead_temporaries(dir);
  if (r.files.empty()) return;
  std::cerr << "thaw: removed " << r.files.size() << " temporary file" << (r.files.size() == 1 ? "" : "s") << " ("
            << (r.bytes >> 20) << " MiB) left in " << dir.string() << " by a thaw process that died\n";
}

Prepared prepare(const TrainingRequest& req, RankContext& ranks) {
  const RunConfig a = req.resume ? req.resume->config : with_absolute_paths(req.flags);
  if (a.out.empty()) fail_user("--out: a run folder is required");
  checkpoint_policy(a, req.stop_at_step);  // the flags' errors before anything is opened
  // The GPU ranks' transport too: processes that disagree on it would wait for each other forever.
  nlohmann::json agreed = a;
  agreed["gpu_comm"] = std::string(gpu_transport_name(ranks.gpu_transport()));
  ranks.agree_on(agreed.dump());
  ranks.set_device(a.device == "cuda");
  Prepared p{a, setup_run(a), std::nullopt, {}, {}, std::nullopt, ranks.gpu_ranks()};
  TrainConfig& cfg = p.run.train;
  cfg.ranks = ranks.total_ranks();
  validate_shards(cfg, p.run.graph);
  const bool writer = ranks.is_writer();  // rank 0 alone writes the run folder
  cfg.interactive = writer && isatty(STDERR_FILENO) != 0;
  cfg.out_dir = a.out;
  if (writer) {
    p.lock.emplace(cfg.out_dir, req.resume ? "--resume" : "--out");
    remove_leftovers(cfg.out_dir);
  }
  if (writer && !req.resume) prepare_out_dir(cfg.out_dir, a.overwrite);
  // A resumed run starts from its checkpoint's state and position (engine/run/train_resume.h).
  if (req.resume) p.point = find_resume_point(*req.resume, p.run);
  p.init = p.point ? InitialState{std::move(p.point->checkpoint.state), p.point->checkpoint.file.string(), "", ""}
                   : initial_state(a, p.run.graph);
  if (p.point) {
    set_start(cfg, p.point->checkpoint);
    // --patience goes on counting from the epochs before the stop (every rank reads them).
    cfg.epochs_before = read_epochs_before(cfg.out_dir, cfg.start_step / p.point->checkpoint.meta.steps_per_epoch);
  }
  p.policy = checkpoint_policy(a, req.stop_at_step, cfg.start_step);
  return p;
}

// Before the first step: room for the checkpoints the run will keep, and the one written before the
// oldest is removed (a resumed or overwritten run's files already count as used).
void check_run_space(const Prepared& p) {
  const TrainConfig& cfg = p.run.train;
  const int64_t bytes = planned_checkpoint_bytes(
      p.run.graph, make_plan(p.run.graph, earliest_freeze_block(cfg.unfreeze, cfg.freeze_block), cfg.bn), cfg.optimizer);
  const auto existing = static_cast<int64_t>(list_checkpoints(cfg.out_dir).size());
  const int64_t files = std::max<int64_t>(0, p.policy.keep + 1 - existing);
  check_free_space(cfg.out_dir, files * bytes,
                   cat_str(files, " checkpoint", files == 1 ? "" : "s", " of ", bytes >> 20, " MiB (--keep-checkpoints ",
                           p.policy.keep, ", and one more while the oldest is replaced)"));
}

// Ranks other than 0 train without writing anything.
int train_silently(Prepared& p, RankContext& ranks) {
  TrainConfig& cfg = p.run.train;
  InterruptGuard interrupt;
  CheckpointHook hook(cfg.out_dir, p.run.graph, p.policy, checkpoint_base(p.run, nullptr), &interrupt,
                      p.point ? &p.point->checkpoint : nullptr);
  cfg.hook = &hook;
  const TrainSummary s =
      ranks.train(p.run.graph, p.init.state, *p.run.train_data, p.run.val_data.get(), cfg, std::cerr, nullptr);
  return s.halted && interrupt.signal_received() != 0 ? 128 + interrupt.signal_received() : 0;
}

void announce(const Prepared& p) {
  const RunConfig& a = p.config;
  if (p.point) {
    std::cerr << "thaw: resuming " << p.run.train.out_dir.string() << " from " << p.point->checkpoint.file.string() << "\n";
  } else if (a.weights.empty()) {
    std::cerr << "thaw: no --weights given: starting from a seeded random initialisation (seed " << a.seed << ")\n";
  } else if (!p.init.note.empty()) {
    std::cerr << "thaw: " << p.init.note << "\n";
  }
  warn_left_out_files(a.data, std::cerr);
  if (!p.run.val_data) {
    std::cerr << "thaw: training " << p.run.train_data->describe()
              << "; --val-fraction 0: no held-out evaluation, so no held-out loss or accuracy per epoch\n";
    return;
  }
  std::cerr << "thaw: training " << p.run.train_data->describe() << "; held out: " << p.run.val_data->describe()
            << "\n";
}

// What weights.safetensors and best.safetensors carry besides the tensors.
std::map<std::string, std::string> weights_metadata(const Prepared& p) {
  std::map<std::string, std::string> meta = {{"thaw_freeze_through", p.config.freeze_through},
                                             {"thaw_seed", std::to_string(p.config.seed)}};
  // The class order of the outputs, for `thaw predict` on images (only when the head has exactly these).
  const std::vector<std::string> names = p.run.train_full->class_names();
  if (static_cast<int64_t>(names.size()) == p.run.classes) meta["thaw_class_names"] = nlohmann::json(names).dump();
  // How an image becomes this model's input (io/augment.h), so that predict and eval need no flags for it.
  meta["thaw_input_size"] = std::to_string(p.run.graph.input_size);
  meta["thaw_preprocess"] = nlohmann::json{{"colour", "8-bit RGB, EXIF orientation applied"},
                                           {"resize", "shorter side to floor(input_size / 0.875), antialiased bilinear"},
                                           {"crop", "centre, input_size x input_size"},
                                           {"mean", {0.5, 0.5, 0.5}},
                                           {"std", {0.5, 0.5, 0.5}}}
                                .dump();
  return meta;
}

// The weights, the record's end and summary.json of a run that trained to its end.
void finish(const TrainingRequest& req, Prepared& p, RunRecorder& recorder, TrainSummary s) {
  const RunConfig& a = p.config;
  const fs::path& out = p.run.train.out_dir;
  if (p.point) {  // summary.json lists the epochs finished before the stop too
    const int64_t first_epoch = p.run.train.start_step / p.point->checkpoint.meta.steps_per_epoch;
    const std::vector<EpochResult> before = read_epochs_before(out, first_epoch);
    s.epochs.insert(s.epochs.begin(), before.begin(), before.end());
  }
  const fs::path weights_file = out / "weights.safetensors";
  const std::vector<std::string> names = p.run.train_full->class_names();
  save_weights(weights_file, p.run.graph, p.init.state, weights_metadata(p));
  recorder.finish(s, p.run.graph, p.init.state, weights_file);
  RunSummary sum;
  sum.command = req.command_line;
  if (p.point) {  // the start's command and each resume's, from the record
    sum.command = recorder.record().value("command", "");
    for (const auto& r : recorder.record().value("resumes", nlohmann::ordered_json::array())) {
      sum.resume_commands.push_back(r.value("command", ""));
    }
  }
  // From the run's own configuration: a resumed run's flags are the defaults, not what it trained on.
  sum.data = a.data;
  sum.initial_weights =
      a.weights.empty() ? "seeded random initialisation (seed " + std::to_string(a.seed) + ")" : a.weights;
  sum.classes = p.run.classes;
  sum.class_names = names;
  sum.input_size = a.input_size;
  sum.freeze_through = a.freeze_through;
  sum.trainable_parameters = s.trainable_parameters;
  sum.steps = s.steps;
  sum.epochs = s.epochs;
  write_run_summary(out, sum);
  if (!a.mlflow.empty()) {
    std::cerr << "thaw: MLflow run " << write_mlflow_run(a.mlflow, out).string() << " (mlflow ui --backend-store-uri "
              << a.mlflow << ")\n";
  }
  if (!a.tensorboard.empty()) {
    std::cerr << "thaw: TensorBoard events " << write_tensorboard_run(a.tensorboard, out).string()
              << " (tensorboard --logdir " << a.tensorboard << ")\n";
  }
  if (s.epochs.empty()) {  // resumed after the last step of a run whose epochs left no record
    std::cout << "weights in " << weights_file.string() << "\n";
    return;
  }
  if (const nlohmann::ordered_json& b = recorder.record().value("best", nlohmann::ordered_json()); !b.is_null()) {
    std::cout << "best epoch " << b["epoch"] << " by " << b["metric"].get<std::string>() << " (" << b["value"]
              << "): " << (out / kBestWeightsName).string() << "\n";
  }
  const EpochResult& last = s.epochs.back();
  if (!p.run.val_data) {
    std::cout << "training loss " << last.train_loss << " in the last epoch (no held-out evaluation); weights in "
              << weights_file.string() << "\n";
    return;
  }
  std::cout << "held-out accuracy " << last.val_accuracy * 100 << "% (" << p.run.val_data->size()
            << " samples, chance " << 100.0 / static_cast<double>(p.run.train_full->num_classes())
            << "%); weights in " << weights_file.string() << "\n";
}

}  // namespace

int run_training(const TrainingRequest& req, RankContext& ranks) {
  Prepared p = prepare(req, ranks);
  if (!ranks.is_writer()) return train_silently(p, ranks);
  TrainConfig& cfg = p.run.train;
  announce(p);
  check_run_space(p);
  if (p.point) prepare_resume_folder(cfg.out_dir, *p.point);
  if (!p.point) remove_checkpoints_after(cfg.out_dir, 0);  // stale ones of a run this one --overwrites
  RunRecorder recorder =
      p.point ? RunRecorder(cfg.out_dir, req.resume->record, p.point->checkpoint.meta.progress.steps_done,
                            p.point->chain, resume_entry(*req.resume, *p.point, req.command_line))
              : RunRecorder(cfg.out_dir, p.config, req.command_line, p.run, p.init);
  recorder.set_gpu_ranks(p.gpu_ranks);
  InterruptGuard interrupt;
  CheckpointHook hook(cfg.out_dir, p.run.graph, p.policy, checkpoint_base(p.run, &recorder.record()), &interrupt,
                      p.point ? &p.point->checkpoint : nullptr);
  cfg.hook = &hook;
  std::optional<BestWeightsWriter> best;
  if (cfg.selection.metric != SelectMetric::None) {
    cfg.epoch_observer = &best.emplace(cfg.out_dir, p.run.graph, cfg.selection.metric, weights_metadata(p));
  }
  try {
    TrainSummary s = ranks.train(p.run.graph, p.init.state, *p.run.train_data, p.run.val_data.get(), cfg, std::cerr,
                                 &recorder.steps());
    if (s.halted) {
      recorder.stopped(hook.last_checkpoint_steps(), hook.last_checkpoint(),
                       hook.stop_signal() != 0 ? signal_name(hook.stop_signal()) : "--stop-at-step");
      return report_stop(hook, planned_steps(cfg, p.run.train_data->size()), cfg.out_dir);
    }
    finish(req, p, recorder, std::move(s));
  } catch (const std::exception& e) {
    recorder.failed(e.what());  // the record says how the run ended, then the error goes on to main
    throw;
  }
  return 0;
}

}  // namespace thaw
