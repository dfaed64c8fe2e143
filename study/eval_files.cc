#include "study/eval_files.h"

#include <cstdio>
#include <map>
#include <sstream>

#include "core/error.h"
#include "core/sha256.h"
#include "engine/gpu/gpu_inference.h"
#include "engine/model/batch_memory.h"
#include "engine/run/record_env.h"
#include "io/atomic_file.h"
#include "io/csv.h"
#include "stats/predictions.h"

namespace thaw {

namespace {

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

// The same samples with labels in the model's class order.
class RelabelledDataset final : public Dataset {
 public:
  RelabelledDataset(const Dataset& d, std::vector<int32_t> map, std::vector<std::string> names)
      : d_(d), map_(std::move(map)), names_(std::move(names)) {}
  int64_t size() const override { return d_.size(); }
  int64_t num_classes() const override { return static_cast<int64_t>(names_.size()); }
  std::vector<std::string> class_names() const override { return names_; }
  int32_t label(int64_t i) const override { return map_[static_cast<size_t>(d_.label(i))]; }
  void load(int64_t i, int64_t size, LoadMode mode, float* chw) const override { d_.load(i, size, mode, chw); }
  std::string describe() const override { return d_.describe(); }
  std::string content_hash(int64_t i) const override { return d_.content_hash(i); }
  std::string source_path(int64_t i) const override { return d_.source_path(i); }
  std::string group(int64_t i) const override { return d_.group(i); }

 private:
  const Dataset& d_;
  std::vector<int32_t> map_;
  std::vector<std::string> names_;
};

}  // namespace

void check_eval_request(const EvalModel& m, const EvalFilesRequest& r) {
  Predictions none;
  none.source = m.weights.string();
  none.classes = model_class_names(m);
  check_eval_options(none, r.stats);
  if (r.batch_size < 1) fail_user("--batch-size: expected at least 1, got ", r.batch_size);
}

std::string predictions_csv(const Dataset& data, const DatasetPredictions& p, const std::vector<std::string>& classes,
                            const std::string& split) {
  const int64_t n = p.samples;
  std::vector<std::string> hashes(static_cast<size_t>(n)), paths(static_cast<size_t>(n)), groups(static_cast<size_t>(n));
  bool any_group = false;
#pragma omp parallel for schedule(dynamic, 64)
  for (int64_t i = 0; i < n; ++i) {
    hashes[i] = data.content_hash(i);
    paths[i] = data.source_path(i);
    groups[i] = data.group(i);
  }
  std::map<std::string, int> copies;
  for (int64_t i = 0; i < n; ++i) {
    if (paths[i].empty()) paths[i] = cat_str(split, ":", i);
    if (hashes[i].empty()) hashes[i] = paths[i];
    const int copy = ++copies[hashes[i]];
    if (copy > 1) hashes[i] += cat_str("#", copy);
    any_group = any_group || !groups[i].empty();
  }
  std::ostringstream os;
  os << "path,hash,label,predicted";
  for (const std::string& c : classes) os << ',' << csv_field(c);
  if (any_group) os << ",group";
  os << '\n';
  const int64_t k = p.classes;
  for (int64_t i = 0; i < n; ++i) {
    os << csv_field(paths[i]) << ',' << csv_field(hashes[i]) << ',' << csv_field(classes[p.labels[i]]) << ','
       << csv_field(classes[p.predicted[i]]);
    for (int64_t c = 0; c < k; ++c) os << ',' << number(p.probs[i * k + c]);
    if (any_group) {
      // A sample without a group is a group of its own.
      os << ',' << csv_field(groups[i].empty() ? cat_str("#", paths[i]) : groups[i]);
    }
    os << '\n';
  }
  return os.str();
}

EvalFiles evaluate_to_files(const Graph& g, ModelState<float>& state, const EvalModel& m, const Dataset& data,
                            const std::filesystem::path& dir, const EvalFilesRequest& r, FeatureCache* cache,
                            std::ostream* progress) {
  check_eval_request(m, r);
  check_inference_batch_memory(g, r.batch_size, r.batch_flag);
  const std::vector<std::string> classes = model_class_names(m);
  // The data's labels in the model's class order (a class the model lacks fails here).
  const RelabelledDataset relabelled(data, model_class_of_data_class(m, data), classes);

  EvalFiles out;
  std::unique_ptr<LogitsForward> gpu;
  if (r.device == "cuda") gpu = make_gpu_inference(g, state);
  out.result = predict_dataset(g, state, relabelled, r.batch_size, gpu ? nullptr : cache, r.limit, progress, false,
                               gpu.get());
  std::filesystem::create_directories(dir);
  out.predictions = dir / ("predictions-" + r.split + ".csv");
  out.eval_json = dir / ("eval-" + r.split + ".json");
  write_file_atomic(out.predictions, predictions_csv(relabelled, out.result, classes, r.split));
  // eval.json from the file as written: exactly what `thaw stats` computes from it.
  const Predictions p = read_predictions(out.predictions);
  out.eval = evaluate_predictions(p, r.stats);
  out.eval["model"] = m.weights.string();
  // Which weights, byte for byte, and on what: an evaluation is evidence only with both.
  out.eval["model_sha256"] = sha256_file_hex(m.weights);
  out.eval["environment"] = nlohmann::json::parse(capture_environment().dump());
  out.eval["data"] = data.describe();
  out.eval["split"] = r.split;
  if (r.device != "cpu") out.eval["device"] = r.device;  // CPU evaluations keep their old files
  write_file_atomic(out.eval_json, out.eval.dump(2) + "\n");
  return out;
}

EvalFiles evaluate_run(const std::filesystem::path& run_dir, DataSplit split, EvalFilesRequest r) {
  const RunForEval run = run_for_eval(run_dir);
  const std::unique_ptr<Dataset> data = open_eval_data(run.config, split);
  const Graph g = build_eval_graph(run.model);
  ModelState<float> state = load_eval_state(run.model, g);
  r.split = split_name(split);
  if (split == DataSplit::Val) r.limit = run.config.val_limit;
  return evaluate_to_files(g, state, run.model, *data, run_dir, r);
}

}  // namespace thaw
