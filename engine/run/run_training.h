#pragma once
// `thaw train` as one call: the run folder made (or a stopped run's taken up again), the training
// loop on every rank this process holds, the run record, checkpoints, Ctrl-C, the weights and
// summary.json. The command line only fills a TrainingRequest (cli/train.cc).
#include <cstdint>
#include <optional>
#include <string>

#include "engine/run/rank_context.h"
#include "engine/run/run_config.h"
#include "engine/run/train_resume.h"

namespace thaw {

struct TrainingRequest {
  RunConfig flags;  // as given (summary.json names the data and the weights as they were typed)
  // --resume: the stopped run's record and configuration, with the flags that cannot change the
  // bits already applied; then `flags` holds only those.
  std::optional<ResumeSource> resume;
  int64_t stop_at_step = 0;  // --stop-at-step
  std::string command_line;  // as record.json keeps it
};

// Returns the exit code: 0, or 128 + the signal (SIGINT, SIGTERM) that stopped the run after a
// checkpoint. A user's mistake is a UserError before the run folder is touched.
int run_training(const TrainingRequest& request, RankContext& ranks);

}  // namespace thaw
