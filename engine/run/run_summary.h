#pragma once
// summary.json: what a finished run reports in one small file (its data, weights, classes, freeze
// point, trainable parameters, steps and every epoch's figures), written by run_training and read
// back by the sweep (study/sweep.cc), so that both sides agree on one shape (docs/record-format.md).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/train/metrics_log.h"

namespace thaw {

struct RunSummary {
  std::string command;                       // the command that started the run
  std::vector<std::string> resume_commands;  // each `thaw train --resume` that continued it
  std::string data;             // as given
  std::string initial_weights;  // as given, or "seeded random initialisation (seed S)"
  int64_t classes = 0;
  std::vector<std::string> class_names;
  int64_t input_size = 0;
  std::string freeze_through;
  int64_t trainable_parameters = 0;
  int64_t steps = 0;
  std::vector<EpochResult> epochs;  // epoch, train_loss, seconds, images_per_s, val_loss, val_accuracy
};

// Written through a temporary file and a rename.
void write_run_summary(const std::filesystem::path& run_dir, const RunSummary& s);
// The figures a sweep reads (trainable_parameters, steps, epochs); a UserError naming the file
// where it is missing or malformed.
RunSummary read_run_summary(const std::filesystem::path& run_dir);

}  // namespace thaw
