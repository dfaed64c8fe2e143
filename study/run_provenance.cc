#include "study/run_provenance.h"

#include "core/sha256.h"
#include "engine/run/record_read.h"
#include "io/file_bytes.h"

namespace thaw {

namespace fs = std::filesystem;
using json = nlohmann::json;

json run_provenance(const fs::path& run_dir) {
  const fs::path record_file = run_dir / "record.json";
  const std::string text = read_file_bytes(record_file);
  const nlohmann::ordered_json record = parse_record(text, record_file.string());
  json p;
  p["run_id"] = record.value("run_id", "");
  p["run_created_utc"] = record.value("created_utc", "");
  p["command"] = record.value("command", "");
  const auto& env = record.contains("environment") ? record["environment"] : nlohmann::ordered_json::object();
  p["thaw"] = env.contains("thaw") ? json::parse(env["thaw"].dump()) : json(nullptr);
  p["record_sha256"] = sha256_hex(text);
  const RecordedSteps steps = read_steps(run_dir / "steps.jsonl");
  p["steps"] = steps.lines.size();
  p["final_param_checksum"] = steps.lines.empty() ? json(nullptr) : json(steps.lines.back().value("param_checksum", ""));
  p["manifest_sha256"] = record.contains("data") ? record["data"].value("manifest_sha256", "") : "";
  p["data"] = record.contains("data") ? record["data"].value("spec", "") : "";
  const fs::path weights = run_dir / "weights.safetensors";
  p["weights_sha256"] = fs::exists(weights) ? json(sha256_file_hex(weights)) : json(nullptr);
  if (record.contains("initial_weights")) {
    p["initial_weights"] = {{"source", record["initial_weights"].value("source", "")},
                            {"file_sha256", record["initial_weights"].value("file_sha256", "")}};
  }
  return p;
}

bool built_dirty(const json& provenance) {
  const json& thaw = provenance.value("thaw", json::object());
  if (!thaw.is_object()) return false;
  const json& d = thaw.value("dirty", json(false));
  return d.is_boolean() ? d.get<bool>() : d.is_string() && d.get<std::string>() == "yes";
}

}  // namespace thaw
