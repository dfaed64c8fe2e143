#include "engine/run/train_resume.h"

#include <fstream>
#include <iostream>
#include <sstream>

#include "core/error.h"
#include "core/sha256.h"
#include "engine/model/plan.h"
#include "engine/run/record.h"
#include "engine/run/dataset_manifest.h"
#include "engine/model/state_hash.h"
#include "engine/run/record_env.h"
#include "engine/run/record_steps.h"
#include "engine/train/unfreeze.h"
#include "io/atomic_file.h"
#include "io/file_bytes.h"

namespace thaw {

namespace {

using ojson = nlohmann::ordered_json;

// The first top-level key whose value differs, or empty.
std::string first_difference(const ojson& recorded, const ojson& present) {
  for (const auto& [k, v] : recorded.items()) {
    if (!present.contains(k) || present[k] != v) return k;
  }
  for (const auto& [k, v] : present.items()) {
    if (!recorded.contains(k)) return k;
  }
  return {};
}

void check_config(const ResumeSource& src, const RunSetup& setup) {
  const std::string record_file = (src.dir / "record.json").string();
  const std::string r = first_difference(src.record.at("resolved"), resolved_config(src.config, setup));
  if (!r.empty()) {
    fail_user(record_file, ": resolved.", r, " now resolves to another value than the run used; it cannot be resumed");
  }
  const std::string f = first_difference(src.record.at("freeze"), freeze_section(setup.graph, setup.train));
  if (!f.empty()) fail_user(record_file, ": freeze.", f, " differs from the run's; it cannot be resumed");
}

void check_data(const ResumeSource& src, const RunSetup& setup) {
  const std::string want = src.record.at("data").at("manifest_sha256").get<std::string>();
  const DataManifest now = run_manifest(setup, recorded_with_sources(src.record));
  if (now.sha256 == want) return;
  const std::filesystem::path csv_path = src.dir / "samples.csv";
  const std::string recorded_csv = read_file_or_empty(csv_path);
  if (recorded_csv.empty() || sha256_hex(recorded_csv) != want) {
    fail_user("the data differs from the run's (manifest sha256 recorded ", want, ", now ", now.sha256, ") and ",
              csv_path.string(), " is missing or edited; the run cannot be resumed");
  }
  fail_user("the data differs from the run's, so it cannot be resumed: ",
            first_manifest_difference(recorded_csv, now.csv));
}

uint64_t parse_hex64(const ojson& line, const std::filesystem::path& steps_file) {
  const std::string s = line.value("param_checksum", "");
  if (s.size() != 16 || s.find_first_not_of("0123456789abcdef") != std::string::npos) {
    fail_user(steps_file.string(), ": step ", line.value("step", int64_t{-1}), " has no valid param_checksum");
  }
  return std::stoull(s, nullptr, 16);
}

// The chain value steps.jsonl holds after the checkpoint's last step, checked against the
// checkpoint's own parameters.
uint64_t check_chain(const std::filesystem::path& steps_file, const RecordedSteps& steps, TrainCheckpoint& c,
                     const RunSetup& setup, DigestRule rule) {
  const int64_t n = c.meta.progress.steps_done;
  if (static_cast<int64_t>(steps.lines.size()) < n) {
    fail_user(c.file.string(), " is at step ", n, " but ", steps_file.string(), " holds only ", steps.lines.size(),
              " steps");
  }
  const uint64_t before = n >= 2 ? parse_hex64(steps.lines[static_cast<size_t>(n - 2)], steps_file) : 0;
  const uint64_t after = parse_hex64(steps.lines[static_cast<size_t>(n - 1)], steps_file);
  // The checkpoint's last step trained what its epoch's freeze point left trainable (--unfreeze).
  const Plan plan = make_plan(
      setup.graph, freeze_block_at(setup.train.unfreeze, setup.train.freeze_block, c.meta.progress.epoch), setup.train.bn);
  std::vector<ParamRef<float>> refs;
  for (int t : plan.trainable_tensors) {
    refs.push_back({setup.graph.tensors[t].name, c.state.values[t].data(), nullptr, c.state.values[t].numel(), true});
  }
  const uint64_t mine = param_checksum(before, refs, rule);
  if (mine != after) {
    fail_user(c.file.string(), ": its parameters do not continue ", steps_file.string(), " (checksum ", hex64(mine),
              ", step ", n - 1, " recorded ", hex64(after), ")");
  }
  return after;
}

}  // namespace

ResumeSource open_resume(const std::filesystem::path& dir) {
  ResumeSource s;
  s.dir = dir;
  s.record = read_record(dir);
  const std::string record_file = (dir / "record.json").string();
  try {
    s.config = recorded_config(s.record, record_file);
    run_identity_sha256(s.record);  // every field it needs is there
  } catch (const nlohmann::json::exception& e) {
    fail_user(record_file, ": a field is missing or malformed (", e.what(), ")");
  }
  if (s.config.stop_on_divergence > 0) {  // its stop depends on every loss before, which no checkpoint holds
    fail_user(dir.string(), ": an LR range test (thaw lr-find) cannot be resumed; run it again");
  }
  if (s.record.value("status", "") == "complete") {
    fail_user(dir.string(), ": the run is complete (",
              s.record.value("result", ojson::object()).value("steps", int64_t{0}),
              " steps); there is nothing to resume");
  }
  s.config.out = dir.string();
  return s;
}

ResumePoint find_resume_point(const ResumeSource& src, const RunSetup& setup) {
  check_config(src, setup);
  check_data(src, setup);
  const std::filesystem::path steps_file = src.dir / "steps.jsonl";
  const RecordedSteps steps = read_steps(steps_file);
  const std::vector<CheckpointFile> files = list_checkpoints(src.dir);
  if (files.empty()) {
    fail_user(src.dir.string(),
              ": no checkpoint to resume from (checkpoint-*.safetensors); the run stopped before "
              "writing one, so start it again");
  }
  const std::string identity = run_identity_sha256(src.record);
  ResumePoint point;
  std::string newest_problem;
  for (auto it = files.rbegin(); it != files.rend(); ++it) {
    try {
      point.checkpoint = read_train_checkpoint(it->path, setup.graph, identity);
    } catch (const ForeignCheckpoint&) {
      throw;
    } catch (const UserError& e) {
      // Damaged (thaw never leaves a partly written file): an older one may still be whole.
      if (newest_problem.empty()) newest_problem = e.what();
      point.skipped.push_back(e.what());
      continue;
    }
    if (point.checkpoint.meta.progress.steps_done != it->steps_done) {
      fail_user(it->path.string(), ": holds step ", point.checkpoint.meta.progress.steps_done, ", its name says ",
                it->steps_done);
    }
    // The record's own version says how its checksums chain.
    point.chain = check_chain(steps_file, steps, point.checkpoint, setup, record_digest_rule(src.record));
    return point;
  }
  if (files.size() == 1) fail_user(newest_problem);
  fail_user("no checkpoint of ", src.dir.string(), " can be read; the newest: ", newest_problem);
}

void prepare_resume_folder(const std::filesystem::path& dir, const ResumePoint& point) {
  remove_checkpoints_after(dir, point.checkpoint.meta.progress.steps_done);
  const std::filesystem::path metrics = dir / "metrics.jsonl";
  const std::string text = read_file_or_empty(metrics);
  if (text.empty()) return;
  const int64_t n = point.checkpoint.meta.progress.steps_done;
  const int64_t epochs_done = n / point.checkpoint.meta.steps_per_epoch;
  std::string kept;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const ojson j = ojson::parse(line, nullptr, false);
    if (j.is_discarded()) continue;  // a torn last line
    const bool keep =
        (j.contains("step") && j["step"].is_number_integer() && j["step"].get<int64_t>() < n) ||
        (j.contains("epoch_end") && j["epoch_end"].is_number_integer() && j["epoch_end"].get<int64_t>() < epochs_done);
    if (keep) kept += line + "\n";
  }
  write_file_atomic(metrics, kept);
}

void set_start(TrainConfig& cfg, const TrainCheckpoint& c) {
  const TrainProgress& p = c.meta.progress;
  cfg.start_step = p.steps_done;
  // A checkpoint at an epoch's end starts the next epoch from nothing.
  cfg.start_epoch_loss_sum = p.epoch_steps_done < c.meta.steps_per_epoch ? p.epoch_loss_sum : 0.0;
  cfg.start_epoch_seconds = p.epoch_steps_done < c.meta.steps_per_epoch ? p.epoch_seconds : 0.0;
}

nlohmann::ordered_json resume_entry(const ResumeSource& source, const ResumePoint& point,
                                    const std::string& command_line) {
  nlohmann::ordered_json e;
  e["command"] = command_line;
  e["from_checkpoint"] = point.checkpoint.file.filename().string();
  e["steps_done"] = point.checkpoint.meta.progress.steps_done;
  e["skipped_checkpoints"] = point.skipped;
  e["environment_differences"] = nlohmann::ordered_json::array();
  const nlohmann::ordered_json recorded = source.record.value("environment", nlohmann::ordered_json::object());
  for (const EnvDifference& d : compare_environments(recorded, capture_environment(recorded_device(source.record)))) {
    if (!d.bit_changing) continue;
    const std::string line = cat_str(d.field, ": recorded ", d.recorded, ", now ", d.present);
    e["environment_differences"].push_back(line);
    std::cerr << "thaw: warning: the environment differs from the run's start in a way that can change the bits: "
              << line << "\n";
  }
  for (const std::string& s : point.skipped) std::cerr << "thaw: warning: skipped a damaged checkpoint: " << s << "\n";
  return e;
}

}  // namespace thaw
