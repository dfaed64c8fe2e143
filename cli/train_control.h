#pragma once
// `thaw train`'s flags for stopping and going on: --resume RUN_DIR, --stop-at-step N,
// --checkpoint-every S and --keep-checkpoints K (the last two are RunConfig fields, recorded with
// the run), and the pieces run_train uses for them: the config of a resumed run, the checkpoint
// hook, and what is said when a run stops.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "engine/checkpoint_hook.h"
#include "engine/run_config.h"
#include "engine/run_setup.h"
#include "engine/train_resume.h"
#include "engine/trainer.h"

namespace thaw::cli {

struct TrainControl {
  std::string resume;             // --resume: the run folder to go on with
  int64_t stop_at_step = 0;       // --stop-at-step
  const CLI::App* sub = nullptr;  // to see which flags were given
};

void add_train_control_flags(CLI::App* sub, RunConfig& args, TrainControl& control);

// With --resume: the run folder's record and config; the flags that cannot change the bits
// (--threads, --workers, --checkpoint-every, --keep-checkpoints) are taken from the command line
// when given; any other training flag is a UserError naming it. Without --resume: nothing.
std::optional<ResumeSource> open_resume_flags(const TrainControl& control, const RunConfig& args);

// The checkpoint hook's fixed part for this run; `record` is null on ranks that never write.
CheckpointMeta checkpoint_base(const RunSetup& run, const nlohmann::ordered_json* record);
// Validated (UserError naming the flag); `start_step`: where a resumed run goes on from.
CheckpointPolicy checkpoint_policy(const RunConfig& config, const TrainControl& control, int64_t start_step = 0);

// The entry a resumed run adds to record.json's "resumes" list (the time is added by the
// recorder); differences of the environment from the recorded one that can change the bits are
// listed there and said on stderr.
nlohmann::ordered_json resume_entry(const ResumeSource& source, const ResumePoint& point,
                                    const std::string& command_line);

// The epochs a resumed run had finished before it went on from `first_epoch` (metrics.jsonl's
// epoch_end lines), so that summary.json lists every epoch of the run.
std::vector<EpochResult> epochs_before(const std::filesystem::path& run_dir, int64_t first_epoch);

// Prints where the run stopped and how to continue it; returns the exit code: 128 + the signal
// for SIGINT / SIGTERM (the shell's convention for a process ended by a signal), 0 for
// --stop-at-step.
int report_stop(const CheckpointHook& hook, int64_t total_steps, const std::filesystem::path& run_dir);

}  // namespace thaw::cli
