#pragma once
// From a RunConfig to what train() needs: the datasets, the graph, the resolved TrainConfig and the
// initial model state. `thaw train` and `thaw replay` both set a run up here, so a replay runs
// exactly what the recorded run ran.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "engine/model/model_state.h"
#include "engine/run/run_config.h"
#include "engine/train/trainer.h"
#include "graph/graph.h"
#include "io/dataset.h"
#include "io/subset_dataset.h"

namespace thaw {

struct RunSetup {
  std::unique_ptr<Dataset> train_full, val_full;
  std::unique_ptr<SubsetDataset> train_data, val_data;  // the --train-limit / --val-limit slices
  int64_t classes = 0;
  Graph graph;
  TrainConfig train;  // out_dir and interactive are the caller's
  std::filesystem::path data_root;  // samples.csv's sources are relative to it (io/datasets.h)
};

// Opens the data, builds the graph and validates every option (UserError naming the flag).
RunSetup setup_run(const RunConfig& c);

struct InitialState {
  ModelState<float> state;
  std::string source;       // the weights file's path, or "random:<seed>"
  std::string file_sha256;  // of the weights file; empty for a random start
  std::string note;         // for the user: how the head was re-initialised, if it was
};

// From --weights (hashed, then loaded; a new head comes from the seed) or from the seed.
InitialState initial_state(const RunConfig& c, const Graph& g);

}  // namespace thaw
