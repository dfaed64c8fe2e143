#include "engine/run/mlflow_store.h"

#include <ctime>
#include <fstream>
#include <iomanip>
#include <map>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/sha256.h"
#include "engine/run/record.h"
#include "engine/run/record_read.h"
#include "io/atomic_file.h"
#include "io/file_bytes.h"

namespace thaw {
namespace {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

// A YAML scalar in single quotes, where a quote is doubled: any text reads back as itself.
std::string yaml_str(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

void put(const fs::path& file, const std::string& text) { write_file_atomic(file, std::string_view(text)); }

// A param's value as MLflow shows it: strings bare, everything else as JSON.
std::string param_text(const ojson& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

void write_metrics(const fs::path& dir, const fs::path& run_dir, int64_t t) {
  std::map<std::string, std::string> lines;  // metric name -> its file
  std::ifstream in(run_dir / "metrics.jsonl");
  const auto add = [&](const std::string& name, const nlohmann::json& v, int64_t step) {
    if (!v.is_number()) return;  // a NaN was written as null
    std::ostringstream line;
    line << t << ' ' << nlohmann::json(v.get<double>()).dump() << ' ' << step << '\n';
    lines[name] += line.str();
  };
  for (std::string text; std::getline(in, text);) {
    const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_object()) continue;  // a torn last line
    if (j.contains("step") && j["step"].is_number_integer()) {
      const int64_t step = j["step"].get<int64_t>();
      add("loss", j.value("loss", nlohmann::json()), step);
      add("lr", j.value("lr", nlohmann::json()), step);
    } else if (j.contains("epoch_end") && j["epoch_end"].is_number_integer()) {
      const int64_t epoch = j["epoch_end"].get<int64_t>();
      for (const char* k : {"train_loss", "val_loss", "val_accuracy", "val_balanced_accuracy", "val_auc", "images_per_s"}) {
        if (j.contains(k) && !(j[k].is_number() && j[k].get<double>() < 0)) add(k, j[k], epoch);  // -1: not computed
      }
    }
  }
  fs::create_directories(dir / "metrics");
  for (const auto& [name, text] : lines) put(dir / "metrics" / name, text);
}

}  // namespace

fs::path write_mlflow_run(const fs::path& store, const fs::path& run_dir) {
  const ojson record = read_record(run_dir);
  const std::string thaw_id = record.value("run_id", "");
  const std::string id = sha256_hex(thaw_id).substr(0, 32);
  const int64_t start = record_time_seconds(record.value("created_utc", "")) * 1000;
  const fs::path experiment = store / "0";
  const fs::path dir = experiment / id;
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir / "params", ec);
  fs::create_directories(dir / "tags", ec);
  fs::create_directories(dir / "artifacts", ec);
  if (ec) fail_user("--mlflow ", store.string(), ": cannot write (", ec.message(), ")");
  if (!fs::exists(experiment / "meta.yaml")) {
    put(experiment / "meta.yaml", "artifact_location: " + yaml_str("file://" + fs::absolute(experiment).string()) +
                                      "\ncreation_time: " + std::to_string(start) + "\nexperiment_id: '0'\n" +
                                      "last_update_time: " + std::to_string(start) +
                                      "\nlifecycle_stage: active\nname: Default\n");
  }
  const bool complete = record.value("status", "") == "complete";
  std::ostringstream meta;
  meta << "artifact_uri: " << yaml_str("file://" + fs::absolute(dir / "artifacts").string()) << "\n"
       << "end_time: " << start << "\nentry_point_name: ''\nexperiment_id: '0'\nlifecycle_stage: active\n"
       << "run_id: " << id << "\nrun_name: " << yaml_str(thaw_id) << "\nrun_uuid: " << id << "\n"
       << "source_name: ''\nsource_type: 4\nsource_version: ''\nstart_time: " << start << "\n"
       << "status: " << (complete ? 3 : 4) << "\ntags: []\nuser_id: thaw\n";  // 3 FINISHED, 4 FAILED
  put(dir / "meta.yaml", meta.str());
  for (const auto& [key, value] : record.at("config").items()) put(dir / "params" / key, param_text(value));
  put(dir / "tags" / "mlflow.runName", thaw_id);
  put(dir / "tags" / "mlflow.source.name", record.value("command", ""));
  put(dir / "tags" / "thaw.run_dir", fs::absolute(run_dir).string());
  write_metrics(dir, run_dir, start);
  for (const char* f : {"record.json", "summary.json", "metrics.jsonl"}) {
    if (fs::exists(run_dir / f)) fs::copy_file(run_dir / f, dir / "artifacts" / f, fs::copy_options::overwrite_existing, ec);
    if (ec) fail_user("--mlflow ", store.string(), ": cannot copy ", f, " (", ec.message(), ")");
  }
  return dir;
}

}  // namespace thaw
