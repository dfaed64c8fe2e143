#pragma once
// The run record: RUN_DIR/record.json (what ran, on what, from which inputs), RUN_DIR/samples.csv
// (the data manifest) and RUN_DIR/steps.jsonl (every step's numbers). docs/record-format.md
// describes every field; `thaw replay` reads them back.
#include <filesystem>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/run/dataset_manifest.h"
#include "engine/run/record_read.h"
#include "engine/run/record_steps.h"
#include "engine/run/run_config.h"
#include "engine/run/run_setup.h"
#include "engine/train/trainer.h"

namespace thaw {

inline constexpr const char* kGenerator = "philox4x32-10";
inline constexpr const char* kPrecision = "fp32";

// Every value training uses, the derived ones included (classes, steps per epoch, total steps).
nlohmann::ordered_json resolved_config(const RunConfig& c, const RunSetup& s);
// The freeze point, and the trainable and frozen parameters by name with their element counts.
nlohmann::ordered_json freeze_section(const Graph& g, const TrainConfig& cfg);
// The manifest of the run's training and held-out slices; with_source false for a record made
// before samples.csv had its source column (recorded_with_sources says which a record has).
DataManifest run_manifest(const RunSetup& s, bool with_source = true);
bool recorded_with_sources(const nlohmann::ordered_json& record);

class RunRecorder {
 public:
  // Writes samples.csv and record.json (status "running") into dir and starts steps.jsonl, so a
  // run that dies keeps its record and every finished step.
  RunRecorder(const std::filesystem::path& dir, const RunConfig& c, const std::string& command_line,
              const RunSetup& s, const InitialState& init);
  // Continues the record of a stopped run (engine/run/train_resume.h): status "running" again, `resume`
  // (with the time added as "utc") appended to its "resumes" list, steps.jsonl cut to its first
  // `steps_done` lines and chained on from `chain`.
  RunRecorder(const std::filesystem::path& dir, nlohmann::ordered_json record, int64_t steps_done, uint64_t chain,
              nlohmann::ordered_json resume);
  // The GPU ranks (RankContext::gpu_ranks): "gpu_ranks" in the record, or in this resume's entry
  // for a resumed run (which may run on another GPU count). Nothing for null.
  void set_gpu_ranks(const nlohmann::ordered_json& gpu_ranks);
  StepObserver& steps() { return *steps_; }
  const nlohmann::ordered_json& record() const { return record_; }
  // Rewrites record.json with status "stopped" and where: the steps done and the checkpoint to
  // resume from, and why ("SIGINT", "--stop-at-step").
  void stopped(int64_t steps_done, const std::filesystem::path& checkpoint, const std::string& reason);
  // Rewrites record.json with status "failed" and the error line (best effort: the failure may be
  // the disk's, and a record that cannot be written reads as "interrupted").
  void failed(const std::string& error) noexcept;
  // Rewrites record.json with status "complete" and the result: steps, final state, weights file.
  void finish(const TrainSummary& summary, const Graph& g, const ModelState<float>& final_state,
              const std::filesystem::path& weights_file);

 private:
  std::filesystem::path dir_;
  nlohmann::ordered_json record_;
  std::unique_ptr<StepsWriter> steps_;
  bool resumed_ = false;
};

// RUN_DIR/record.json, parsed; a missing file, another format or a newer version is a UserError.
// A record whose status is "running" while no process holds the folder comes back "interrupted".
nlohmann::ordered_json read_record(const std::filesystem::path& dir);

}  // namespace thaw
