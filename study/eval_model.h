#pragma once
// The model and the data an evaluation runs on: from a weights file (its head gives the number of
// classes, its metadata the class names thaw train wrote), or from a run folder (its record gives
// the weights, the architecture, the input size, the classes and how the data was opened, so the
// run's splits and class subset come back as they were).
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "engine/model/model_state.h"
#include "engine/run/run_config.h"
#include "graph/graph.h"
#include "io/data_split.h"
#include "io/dataset.h"

namespace thaw {

struct EvalModel {
  std::filesystem::path weights;
  std::string arch = "inception_v4";
  int64_t input_size = 299;
  int64_t classes = 0;
  std::vector<std::string> class_names;  // empty when the weights name none
  bool input_size_from_metadata = false;  // input_size came from the file's thaw_input_size
};

// The classifier's class count from the file's head, the names from its thaw_class_names metadata.
// input_size 0: the file's thaw_input_size metadata, else 299.
EvalModel model_from_weights(const std::filesystem::path& weights, const std::string& arch, int64_t input_size);

// RUN_DIR/record.json's config (as given), with RUN_DIR/weights.safetensors as the model. A run
// that did not finish (no weights) is a UserError naming the folder.
struct RunForEval {
  RunConfig config;
  EvalModel model;
};
RunForEval run_for_eval(const std::filesystem::path& run_dir);

Graph build_eval_graph(const EvalModel& m);
ModelState<float> load_eval_state(const EvalModel& m, const Graph& g);

// How to open the evaluation data: as a run opens it (splits, class subset) from these fields.
std::unique_ptr<Dataset> open_eval_data(const RunConfig& data_options, DataSplit split);

// --on-bad-image skip for evaluation: the first `limit` samples (all when 0) are each loaded once at
// `size` (in parallel); those that cannot be read are left out of the view and their errors (each
// naming the file) appended to `skipped`.
std::unique_ptr<Dataset> without_unreadable(std::unique_ptr<Dataset> data, int64_t size, int64_t limit,
                                            std::vector<std::string>& skipped);

// The model's class index of each of the data's classes, by name where the model has names (a
// data class the model does not have is a UserError naming it and the model's classes), else by
// index (more data classes than model classes is a UserError).
std::vector<int32_t> model_class_of_data_class(const EvalModel& m, const Dataset& data);

// The model's class names, or "0".."K-1" when it has none.
std::vector<std::string> model_class_names(const EvalModel& m);

}  // namespace thaw
