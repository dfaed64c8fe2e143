#pragma once
// Training checkpoints: everything a stopped run needs to go on bit for bit, in one safetensors
// file (docs/record-format.md, "Checkpoints"):
//   - the model's state_dict under timm's keys (parameters, running statistics, counters), as
//     weights.safetensors holds it;
//   - the optimizer's state tensors as "optimizer.<param>.momentum_buffer" (SGD with momentum) or
//     "optimizer.<param>.exp_avg" / ".exp_avg_sq" (AdamW), all F32;
//   - in the metadata key "thaw_checkpoint", a JSON object: the position (steps done, epoch,
//     steps done in that epoch, the epoch's loss sum so far), the optimizer's kind and step count,
//     the seed and generator, the run it belongs to, and the SHA-256 of the tensor data.
// The generator needs nothing more: Philox is counter-based, every draw keyed by (seed, purpose,
// epoch or step, sample), so the position and the seed are its whole state.
//
// Files are RUN_DIR/checkpoint-<steps done, 9 digits>.safetensors, written through a temporary
// file, fsync and rename (io/atomic_file.h), so a checkpoint is whole or absent.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "engine/model/model_state.h"
#include "engine/optim/optimizer.h"
#include "engine/train/train_hook.h"
#include "graph/graph.h"
#include "io/safetensors.h"

namespace thaw {

inline constexpr const char* kCheckpointFormat = "thaw-checkpoint";
inline constexpr int kCheckpointVersion = 1;
inline constexpr const char* kCheckpointMetaKey = "thaw_checkpoint";
inline constexpr const char* kOptimizerTensorPrefix = "optimizer.";

// What a checkpoint says besides its tensors.
struct CheckpointMeta {
  std::string run_id;      // record.json's run_id, for people
  std::string run_sha256;  // run_identity_sha256 of the run's record: what must match to resume
  TrainProgress progress;  // where the run stood when it was written
  int64_t steps_per_epoch = 0;
  int64_t total_steps = 0;
  uint64_t seed = 0;
};

// SHA-256 over what decides a run's bits, taken from its record.json: `resolved`, `freeze`,
// `data.manifest_sha256`, `initial_weights.state_sha256` and `V` (compact JSON of an object with
// those five, docs/record-format.md). Two runs with the same identity make the same steps.
std::string run_identity_sha256(const nlohmann::ordered_json& record);

void write_train_checkpoint(const std::filesystem::path& path, const Graph& g, const ModelState<float>& state,
                            const Optimizer<float>& optimizer, const CheckpointMeta& meta);

// A checkpoint that is whole but belongs to another run (its run identity differs): never used in
// place of a damaged one.
class ForeignCheckpoint : public UserError {
 public:
  using UserError::UserError;
};

struct TrainCheckpoint {
  std::filesystem::path file;
  CheckpointMeta meta;
  ModelState<float> state;
  std::string optimizer_kind;  // "sgd" or "adamw"
  int64_t optimizer_steps = 0;
  std::map<std::string, std::vector<float>> optimizer_state;  // by state name, without the prefix
  std::map<std::string, std::string> metadata;                // the file's, as read
};

// Every state_dict tensor of g from a safetensors file, exactly: F32 values (I64 scalar counters)
// of the graph's shapes, nothing converted; a missing or different tensor is a UserError naming
// the file. Tensors the graph does not have are not looked at.
ModelState<float> read_model_tensors(const SafeTensorsFile& file, const Graph& g);

// Reads and checks a checkpoint for graph g: the safetensors structure (io/safetensors.h), the
// metadata, the run identity when `expect_run_sha256` is not empty (checked before any tensor; a
// mismatch throws ForeignCheckpoint),
// every state_dict tensor with its shape and dtype, no tensor the graph does not have, and the
// data hash. Any problem is a UserError naming the file.
TrainCheckpoint read_train_checkpoint(const std::filesystem::path& path, const Graph& g,
                                      const std::string& expect_run_sha256 = "");

// Copies the checkpoint's optimizer state into `optimizer` and sets its step count. Another
// optimizer kind or another set of state tensors is a UserError naming the checkpoint.
void restore_optimizer(const TrainCheckpoint& checkpoint, Optimizer<float>& optimizer);

// RUN_DIR/checkpoint-000000012.safetensors for 12 steps done.
std::filesystem::path checkpoint_path(const std::filesystem::path& run_dir, int64_t steps_done);

struct CheckpointFile {
  int64_t steps_done = 0;  // from the file name
  std::filesystem::path path;
};

// The checkpoint files of a run folder by their names, oldest first (temporary files of an
// unfinished write are not among them).
std::vector<CheckpointFile> list_checkpoints(const std::filesystem::path& run_dir);

// Deletes all but the `keep` newest checkpoint files.
void prune_checkpoints(const std::filesystem::path& run_dir, int64_t keep);
// Deletes the checkpoint files of more than `steps_done` steps: before a fresh run in a reused
// folder (0), and before a resumed run goes past the step it resumed from (files after it are ones
// that could not be read). Returns what it deleted.
std::vector<std::filesystem::path> remove_checkpoints_after(const std::filesystem::path& run_dir, int64_t steps_done);

}  // namespace thaw
