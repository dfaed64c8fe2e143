#pragma once
// --mlflow DIR: a finished run also written as a run of an MLflow file store (the folder layout
// `mlflow ui --backend-store-uri DIR` reads), without Python: DIR/0/meta.yaml (the Default
// experiment, made if missing), DIR/0/<run>/meta.yaml, params/<config field>, metrics/<name>
// ("<ms> <value> <step>" per line: loss and lr per step, the held-out metrics per epoch with the
// epoch as step), tags/ and artifacts/ (record.json, summary.json, metrics.jsonl). The run's folder
// name is the first 32 hex digits of the SHA-256 of thaw's run id: writing it again replaces it.
#include <filesystem>
#include <string>

namespace thaw {

// Writes the run in `run_dir` (record.json, metrics.jsonl, summary.json) into the store; returns
// the MLflow run folder. A store that cannot be written is a UserError naming it.
std::filesystem::path write_mlflow_run(const std::filesystem::path& store, const std::filesystem::path& run_dir);

}  // namespace thaw
