#include "engine/run/model_export.h"

#include <map>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/sha256.h"
#include "engine/model/weights_io.h"
#include "engine/run/record.h"
#include "engine/run/run_config.h"
#include "engine/train/train_checkpoint.h"
#include "graph/network.h"
#include "io/safetensors.h"

namespace thaw {

ExportResult export_model(const std::filesystem::path& dir, const std::filesystem::path& out) {
  const nlohmann::ordered_json record = read_record(dir);
  ExportResult r;
  RunConfig c;
  int64_t classes = 0, input_size = 0;
  std::string identity;
  try {
    c = recorded_config(record, (dir / "record.json").string());
    classes = record.at("resolved").at("classes").get<int64_t>();
    input_size = record.at("resolved").at("input_size").get<int64_t>();
    r.total_steps = record.at("resolved").value("total_steps", int64_t{0});
    identity = run_identity_sha256(record);
  } catch (const nlohmann::json::exception& e) {
    fail_user((dir / "record.json").string(), ": a field is missing or malformed (", e.what(), ")");
  }
  // The layer conventions do not change a single key or shape; the source file's metadata, kept
  // below, says which ones the values were trained under.
  const Graph g = build_network(c.arch, input_size, classes, c.dropout);

  ModelState<float> state;
  std::map<std::string, std::string> meta;
  if (record.value("status", "") == "complete") {
    const nlohmann::ordered_json& result = record.at("result");
    r.source = dir / result.value("weights_file", "weights.safetensors");
    if (!std::filesystem::exists(r.source)) fail_user(r.source.string(), ": missing (the run's final weights)");
    const std::string want = result.value("weights_file_sha256", "");
    const std::string now = sha256_file_hex(r.source);
    if (now != want)
      fail_user(r.source.string(), ": changed since the run (SHA-256 recorded ", want, ", now ", now, ")");
    const SafeTensorsFile file = SafeTensorsFile::read(r.source);
    state = read_model_tensors(file, g);
    meta = file.metadata();
    r.steps_done = result.value("steps", int64_t{0});
  } else {
    const std::vector<CheckpointFile> files = list_checkpoints(dir);
    if (files.empty()) fail_user(dir.string(), ": the run did not finish and has no checkpoint; nothing to export");
    r.source = files.back().path;
    r.from_checkpoint = true;
    TrainCheckpoint ck = read_train_checkpoint(r.source, g, identity);
    state = std::move(ck.state);
    meta = std::move(ck.metadata);
    meta.erase(kCheckpointMetaKey);
    r.steps_done = ck.meta.progress.steps_done;
  }
  meta["thaw_run_id"] = record.value("run_id", "");
  meta["thaw_steps"] = std::to_string(r.steps_done);
  save_weights(out, g, state, meta);
  r.tensors = static_cast<int64_t>(g.tensors.size());
  return r;
}

}  // namespace thaw
