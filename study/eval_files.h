#pragma once
// One evaluation written out: the predictions file (CSV that `thaw stats` reads as it is) and its
// eval.json (docs/eval-format.md), from a model and a dataset.
//
// predictions-<split>.csv: `path,hash,label,predicted,<one probability column per class>[,group]`.
// `path` is the sample's file (image data) or `<split>:<index>` (IDX data); `hash` its content
// hash (SHA-256 of the stored bytes), with `#2`, `#3`, ... appended to the second and later
// byte-identical copies in the file, so the column stays unique and two evaluations of the same
// test set match sample for sample (`thaw stats A --compare B`), while different test sets do not;
// `group` is the manifest's group, when any sample has one.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/infer/feature_cache.h"
#include "engine/infer/predict_data.h"
#include "stats/evaluation.h"
#include "study/eval_model.h"

namespace thaw {

struct EvalFilesRequest {
  EvalOptions stats;         // interval method, bootstrap, binary view
  int64_t batch_size = 64;
  std::string batch_flag = "--batch-size";  // the flag that set batch_size, for messages
  int64_t limit = 0;         // > 0: the first N samples only
  std::string split = "test";  // names the files and the IDX rows' path column
  std::string device = "cpu";  // "cuda": the model runs on GPU 0 (engine/gpu/gpu_inference.h)
};

struct EvalFiles {
  std::filesystem::path predictions, eval_json;
  nlohmann::json eval;
  DatasetPredictions result;
};

// Checks --positive and --threshold against the model's classes before any work.
void check_eval_request(const EvalModel& m, const EvalFilesRequest& r);

// Runs the model on `data` (labels in the data's classes, mapped to the model's by name) and
// writes <dir>/predictions-<split>.csv and <dir>/eval-<split>.json.
EvalFiles evaluate_to_files(const Graph& g, ModelState<float>& state, const EvalModel& m, const Dataset& data,
                            const std::filesystem::path& dir, const EvalFilesRequest& r, FeatureCache* cache = nullptr,
                            std::ostream* progress = nullptr);

// A finished run's model (study/eval_model.h) on one split of its own data, written into the run
// folder: validation on the samples its training validated on (--val-limit), test on the first
// r.limit test samples (all when 0).
EvalFiles evaluate_run(const std::filesystem::path& run_dir, DataSplit split, EvalFilesRequest r);

// The predictions CSV text of `p` (model-space labels) for the samples of `data`.
std::string predictions_csv(const Dataset& data, const DatasetPredictions& p, const std::vector<std::string>& classes,
                            const std::string& split);

}  // namespace thaw
