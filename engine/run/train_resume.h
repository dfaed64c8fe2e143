#pragma once
// Continuing a stopped run (`thaw train --resume RUN_DIR`): the run's own record.json gives the
// config, the newest usable checkpoint gives the state, and steps.jsonl goes on from it with its
// checksum chain intact, so that the finished run is bit for bit the run that never stopped.
#include <cstdint>
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/run/run_config.h"
#include "engine/run/run_setup.h"
#include "engine/train/train_checkpoint.h"

namespace thaw {

struct ResumeSource {
  std::filesystem::path dir;
  nlohmann::ordered_json record;
  RunConfig config;  // the record's config; `out` is `dir`
};

// Reads RUN_DIR/record.json. A folder without a record, a record thaw cannot read, or a complete
// run (nothing left to do) is a UserError naming the folder or file.
ResumeSource open_resume(const std::filesystem::path& dir);

struct ResumePoint {
  TrainCheckpoint checkpoint;
  uint64_t chain = 0;                // steps.jsonl's param_checksum after the checkpoint's last step
  std::vector<std::string> skipped;  // newer checkpoints that could not be read, each with why
};

// With the run set up again from source.config: checks that the config resolves as recorded and
// that the data is the recorded data (a changed sample is named), then takes the newest checkpoint
// that reads back whole (damaged newer ones are skipped, and said so in `skipped`). The checkpoint
// must belong to this run (else ForeignCheckpoint) and its parameters must give the checksum that
// steps.jsonl recorded after its last step. Every refusal is a UserError naming the file; none
// changes the folder.
ResumePoint find_resume_point(const ResumeSource& source, const RunSetup& setup);

// Makes the run folder ready to go on from `point`: deletes checkpoint files past it and cuts
// metrics.jsonl back to it (lines of the steps the stopped run made after its checkpoint go; they
// will be made again). steps.jsonl is cut by the RunRecorder that continues it.
void prepare_resume_folder(const std::filesystem::path& dir, const ResumePoint& point);

// The TrainConfig fields that start the loop at the checkpoint.
void set_start(TrainConfig& cfg, const TrainCheckpoint& checkpoint);

// The entry a resumed run adds to record.json's "resumes" list (the time is added by the
// recorder); differences of the environment from the recorded one that can change the bits are
// listed there and said on stderr, as are the damaged checkpoints passed over.
nlohmann::ordered_json resume_entry(const ResumeSource& source, const ResumePoint& point,
                                    const std::string& command_line);

}  // namespace thaw
