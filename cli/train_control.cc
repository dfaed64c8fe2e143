#include "cli/train_control.h"

#include <fstream>
#include <iostream>

#include "core/error.h"
#include "engine/interrupt.h"
#include "engine/record_env.h"
#include "engine/trainer.h"

namespace thaw::cli {

namespace {

// Flags that may come with --resume: they change how fast the run goes and how often it keeps
// checkpoints, never its bits.
bool allowed_with_resume(const std::string& name) {
  for (const char* ok : {"--help", "--resume", "--stop-at-step", "--threads", "--workers", "--checkpoint-every",
                         "--keep-checkpoints", "--ranks", "--devices", "--rank-timeout"}) {
    if (name == ok) return true;
  }
  return false;
}

bool given(const TrainControl& c, const std::string& name) {
  const CLI::Option* opt = c.sub->get_option_no_throw(name);
  return opt != nullptr && opt->count() > 0;
}

}  // namespace

void add_train_control_flags(CLI::App* sub, RunConfig& a, TrainControl& c) {
  c.sub = sub;
  sub->add_option("--resume", c.resume,
                  "Go on with the stopped run in this folder from its newest checkpoint (its options come from its "
                  "record.json)");
  sub->add_option("--checkpoint-every", a.checkpoint_every,
                  "Write a checkpoint every S steps (0: at the end of each epoch); always at the end and on Ctrl-C")
      ->capture_default_str();
  sub->add_option("--keep-checkpoints", a.keep_checkpoints, "Keep the newest K checkpoints in the run folder")
      ->capture_default_str();
  sub->add_option("--stop-at-step", c.stop_at_step,
                  "Stop with a checkpoint once N steps are done (continue later with --resume)");
}

std::optional<ResumeSource> open_resume_flags(const TrainControl& c, const RunConfig& args) {
  if (c.resume.empty()) return std::nullopt;
  for (const CLI::Option* opt : c.sub->get_options()) {
    if (opt->count() == 0 || allowed_with_resume(opt->get_name())) continue;
    fail_user("--resume: ", opt->get_name(), " cannot be given with it; a resumed run takes its options from ",
              (std::filesystem::path(c.resume) / "record.json").string());
  }
  ResumeSource s = open_resume(c.resume);
  if (given(c, "--threads")) s.config.threads = args.threads;
  if (given(c, "--workers")) s.config.workers = args.workers;
  if (given(c, "--checkpoint-every")) s.config.checkpoint_every = args.checkpoint_every;
  if (given(c, "--keep-checkpoints")) s.config.keep_checkpoints = args.keep_checkpoints;
  return s;
}

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

CheckpointPolicy checkpoint_policy(const RunConfig& config, const TrainControl& c, int64_t start_step) {
  CheckpointPolicy p;
  p.every = config.checkpoint_every;
  p.keep = config.keep_checkpoints;
  p.stop_at_step = c.stop_at_step;
  validate_checkpoint_policy(p, start_step);
  return p;
}

nlohmann::ordered_json resume_entry(const ResumeSource& source, const ResumePoint& point,
                                    const std::string& command_line) {
  nlohmann::ordered_json e;
  e["command"] = command_line;
  e["from_checkpoint"] = point.checkpoint.file.filename().string();
  e["steps_done"] = point.checkpoint.meta.progress.steps_done;
  e["skipped_checkpoints"] = point.skipped;
  e["environment_differences"] = nlohmann::ordered_json::array();
  const nlohmann::ordered_json recorded = source.record.value("environment", nlohmann::ordered_json::object());
  for (const EnvDifference& d : compare_environments(recorded, capture_environment(recorded_device(source.record)))) {
    if (!d.bit_changing) continue;
    const std::string line = cat_str(d.field, ": recorded ", d.recorded, ", now ", d.present);
    e["environment_differences"].push_back(line);
    std::cerr << "thaw: warning: the environment differs from the run's start in a way that can change the bits: "
              << line << "\n";
  }
  for (const std::string& s : point.skipped) std::cerr << "thaw: warning: skipped a damaged checkpoint: " << s << "\n";
  return e;
}

std::vector<EpochResult> epochs_before(const std::filesystem::path& run_dir, int64_t first_epoch) {
  std::vector<EpochResult> out;
  std::ifstream in(run_dir / "metrics.jsonl");
  for (std::string line; std::getline(in, line);) {
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.contains("epoch_end") || !j["epoch_end"].is_number_integer()) continue;
    EpochResult e;
    e.epoch = j["epoch_end"].get<int64_t>();
    if (e.epoch >= first_epoch) continue;
    e.train_loss = j.value("train_loss", 0.0);
    e.seconds = j.value("seconds", 0.0);
    e.images_per_s = j.value("images_per_s", 0.0);
    e.val_loss = j.value("val_loss", 0.0);
    e.val_accuracy = j.value("val_accuracy", -1.0);
    out.push_back(e);
  }
  return out;
}

int report_stop(const CheckpointHook& hook, int64_t total_steps, const std::filesystem::path& run_dir) {
  const int sig = hook.stop_signal();
  std::cerr << "thaw: "
            << (sig != 0 ? cat_str("stopped by ", signal_name(sig)) : std::string("stopped (--stop-at-step)"))
            << " after step " << hook.last_checkpoint_steps() << " of " << total_steps << "; checkpoint "
            << hook.last_checkpoint().string() << "\n"
            << "thaw: continue with: thaw train --resume " << run_dir.string() << "\n";
  return sig != 0 ? 128 + sig : 0;
}

}  // namespace thaw::cli
