#pragma once
// `thaw train`'s flags for stopping and going on: --resume RUN_DIR, --stop-at-step N,
// --checkpoint-every S and --keep-checkpoints K (the last two are RunConfig fields, recorded with
// the run), and the configuration of a resumed run from them. The run itself is
// engine/run/run_training.h.
#include <cstdint>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "engine/run/run_config.h"
#include "engine/run/train_resume.h"

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

}  // namespace thaw::cli
