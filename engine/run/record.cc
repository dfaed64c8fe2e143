#include "engine/run/record.h"

#include <chrono>
#include <ctime>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "core/sha256.h"
#include "engine/model/plan.h"
#include "engine/run/best_weights.h"
#include "engine/run/record_env.h"
#include "engine/run/run_lock.h"
#include "engine/model/state_hash.h"
#include "io/atomic_file.h"
#include "io/file_bytes.h"
#include "io/pack_format.h"
#include "io/pixel_mapping.h"

namespace thaw {

namespace {

// A pack's pixels were mapped when it was written: its rule, not the run's flags, made them.
std::string pixel_mapping_of_data(const RunConfig& c) {
  if (is_pack_dir(c.data)) return read_pack_manifest(c.data).pixel_mapping;
  return describe_pixel_mapping(pixel_mapping_of(c.window, c.dicom_frame));
}

using ojson = nlohmann::ordered_json;

std::string utc_now() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

const char* bn_name(BnPolicy p) { return p == BnPolicy::Train ? "train" : "frozen"; }

void write_record(const std::filesystem::path& dir, const ojson& record) {
  write_file_atomic(dir / "record.json", record.dump(2) + "\n");
}

}  // namespace

ojson resolved_config(const RunConfig& c, const RunSetup& s) {
  const TrainConfig& t = s.train;
  ojson j;
  j["classes"] = s.classes;
  j["class_names"] = s.train_full->class_names();
  j["input_size"] = s.graph.input_size;
  j["dropout"] = c.dropout;
  j["train_samples"] = s.train_data->size();
  j["val_samples"] = s.val_data ? s.val_data->size() : 0;  // 0: --val-fraction 0
  j["batch_size"] = t.batch_size;
  j["epochs"] = t.epochs;
  j["steps_per_epoch"] = s.train_data->size() / t.batch_size;
  j["drop_last"] = true;
  j["max_steps"] = t.max_steps;
  j["total_steps"] = planned_steps(t, s.train_data->size());
  j["seed"] = t.seed;
  j["freeze_block"] = t.freeze_block;
  j["bn"] = bn_name(t.bn);
  j["optimizer"] = {{"kind", optimizer_kind_name(t.optimizer.kind)}, {"momentum", t.optimizer.momentum},
                    {"nesterov", t.optimizer.nesterov},           {"weight_decay", t.optimizer.weight_decay},
                    {"beta1", t.optimizer.beta1},                 {"beta2", t.optimizer.beta2},
                    {"eps", t.optimizer.eps}};
  j["lr_schedule"] = {{"kind", lr_schedule_kind_name(t.schedule.kind)},
                      {"base_lr", t.schedule.base_lr},
                      {"warmup_steps", t.schedule.warmup_steps},
                      {"warmup_start_factor", t.schedule.warmup_start_factor},
                      {"step_size", t.schedule.step_size},
                      {"gamma", t.schedule.gamma},
                      {"min_lr", t.schedule.min_lr},
                      {"total_steps", planned_steps(t, s.train_data->size())}};
  j["label_smoothing"] = t.label_smoothing;
  j["class_weights"] = t.class_weights;
  j["eval_batch_size"] = t.eval_batch_size;
  j["eval_limit"] = t.eval_limit;
  return j;
}

ojson freeze_section(const Graph& g, const TrainConfig& cfg) {
  const Plan plan = make_plan(g, cfg.freeze_block, cfg.bn);
  std::vector<char> trainable(g.tensors.size(), 0);
  for (int t : plan.trainable_tensors) trainable[t] = 1;
  ojson tr = ojson::array(), fr = ojson::array();
  int64_t ntr = 0, nfr = 0;
  for (size_t t = 0; t < g.tensors.size(); ++t) {
    const TensorSpec& spec = g.tensors[t];
    if (!spec.is_parameter()) continue;  // running statistics and counters are buffers, never trained
    const int64_t n = shape_numel(spec.shape);
    (trainable[t] ? tr : fr).push_back({{"name", spec.name}, {"count", n}});
    (trainable[t] ? ntr : nfr) += n;
  }
  ojson j;
  j["freeze_through"] = cfg.freeze_block < 0 ? "none" : g.blocks[cfg.freeze_block].name;
  j["freeze_block"] = cfg.freeze_block;
  j["bn"] = bn_name(cfg.bn);
  j["trainable"] = {{"parameters", ntr}, {"tensors", tr}};
  j["frozen"] = {{"parameters", nfr}, {"tensors", fr}};
  return j;
}

DataManifest run_manifest(const RunSetup& s, bool with_source) {
  std::vector<std::pair<std::string, const Dataset*>> splits = {{"train", s.train_data.get()}};
  if (s.val_data) splits.emplace_back("val", s.val_data.get());  // none with --val-fraction 0
  return make_manifest(splits, s.graph.input_size, with_source, s.data_root);
}

bool recorded_with_sources(const ojson& record) { return record.at("data").contains("samples_columns"); }

RunRecorder::RunRecorder(const std::filesystem::path& dir, const RunConfig& c, const std::string& command_line,
                         const RunSetup& s, const InitialState& init)
    : dir_(dir) {
  const DataManifest manifest = run_manifest(s);
  write_file_atomic(dir / "samples.csv", manifest.csv);

  const ojson config = ojson::parse(nlohmann::json(c).dump());
  const ojson resolved = resolved_config(c, s);
  // The id names the run for people; replay compares nothing in it.
  const std::string created = utc_now();
  record_["format"] = kRecordFormat;
  record_["version"] = kRecordVersion;
  record_["run_id"] = sha256_hex(config.dump() + resolved.dump()).substr(0, 12) + "-" + created;
  record_["created_utc"] = created;
  record_["status"] = "running";
  record_["command"] = command_line;
  record_["config"] = config;
  record_["resolved"] = resolved;
  record_["environment"] = capture_environment(c.device);
  record_["data"] = {{"spec", c.data},
                     {"manifest_sha256", manifest.sha256},
                     {"samples_file", "samples.csv"},
                     {"samples_columns", kManifestColumns},
                     {"splits", manifest.splits},
                     {"pixel_mapping", pixel_mapping_of_data(c)}};
  record_["initial_weights"] = {{"source", init.source},
                                {"file_sha256", init.file_sha256},
                                {"state_sha256", state_sha256(s.graph, init.state)},
                                {"note", init.note}};
  record_["freeze"] = freeze_section(s.graph, s.train);
  record_["seed"] = c.seed;
  record_["generator"] = kGenerator;
  record_["precision"] = kPrecision;
  record_["deterministic"] = true;
  record_["V"] = s.train.shards;
  record_["N"] = s.train.ranks;
  record_["steps_file"] = "steps.jsonl";
  write_record(dir_, record_);
  steps_ = std::make_unique<StepsWriter>(dir / "steps.jsonl", record_digest_rule(record_));
}

RunRecorder::RunRecorder(const std::filesystem::path& dir, ojson record, int64_t steps_done, uint64_t chain,
                         ojson resume)
    : dir_(dir), record_(std::move(record)), resumed_(true) {
  record_["status"] = "running";
  record_.erase("result");
  record_.erase("stopped");
  record_.erase("failed");
  resume["utc"] = utc_now();
  record_["resumes"].push_back(std::move(resume));
  // A resumed run keeps its record's version, and so its digest rule.
  steps_ = std::make_unique<StepsWriter>(dir / "steps.jsonl", steps_done, chain, record_digest_rule(record_));
  write_record(dir_, record_);
}

void RunRecorder::set_gpu_ranks(const ojson& gpu_ranks) {
  if (gpu_ranks.is_null()) return;
  if (resumed_) {
    record_["resumes"].back()["gpu_ranks"] = gpu_ranks;
  } else {
    record_["gpu_ranks"] = gpu_ranks;
  }
  write_record(dir_, record_);
}

void RunRecorder::stopped(int64_t steps_done, const std::filesystem::path& checkpoint, const std::string& reason) {
  record_["status"] = "stopped";
  record_["stopped"] = {{"steps_done", steps_done}, {"checkpoint", checkpoint.filename().string()}, {"reason", reason}};
  write_record(dir_, record_);
}

void RunRecorder::failed(const std::string& error) noexcept {
  try {
    record_["status"] = "failed";
    record_["failed"] = {{"utc", utc_now()}, {"error", error}};
    write_record(dir_, record_);
  } catch (const std::exception&) {
    // The disk that failed the run may fail this write too; readers then see "interrupted".
  }
}

void RunRecorder::finish(const TrainSummary& summary, const Graph& g, const ModelState<float>& final_state,
                         const std::filesystem::path& weights_file) {
  record_["status"] = "complete";
  record_.erase("stopped");
  record_["result"] = {{"steps", summary.steps},
                       {"final_state_sha256", state_sha256(g, final_state)},
                       {"weights_file", weights_file.filename().string()},
                       {"weights_file_sha256", sha256_file_hex(weights_file)}};
  if (summary.stopped_early) record_["result"]["stopped_early"] = true;
  // Which cuDNN engine and cuBLASLt algorithm each problem ran on: what a replay on other
  // libraries must compare against.
  if (!summary.gpu_plans.empty()) record_["result"]["gpu_plans"] = summary.gpu_plans;
  // The best epoch by --select (engine/run/best_weights.h), which replay checks.
  if (ojson best = best_record(dir_); !best.is_null()) record_["best"] = std::move(best);
  write_record(dir_, record_);
}

ojson read_record(const std::filesystem::path& dir) {
  const std::filesystem::path path = dir / "record.json";
  ojson r = parse_record(read_file_bytes(path, "not a thaw run folder (no record.json)"), path.string());
  // "running" on disk is true only while a process holds the folder (engine/run/run_lock.h); a
  // record left "running" by a process that died is read as what it is.
  if (r.value("status", "") == "running" && run_folder_holder(dir) == 0) r["status"] = "interrupted";
  return r;
}

}  // namespace thaw
