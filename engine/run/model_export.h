#pragma once
// `thaw export RUN_DIR --out model.safetensors`: the fine-tuned model of a run as a state_dict
// that timm loads with strict key matching (timm.create_model(arch, num_classes=K)): exactly the
// graph's tensors under timm's keys, in timm's order, float32 with int64 num_batches_tracked
// scalars; the source file's metadata (arch, classes, class names, layer conventions) kept, the
// checkpoint's own left out.
#include <cstdint>
#include <filesystem>
#include <string>

namespace thaw {

struct ExportResult {
  std::filesystem::path source;  // the run's weights.safetensors, or its newest checkpoint
  bool from_checkpoint = false;  // the run did not finish
  int64_t steps_done = 0;
  int64_t total_steps = 0;
  int64_t tensors = 0;
};

// A complete run exports weights.safetensors (checked against the SHA-256 its record holds); a
// stopped one its newest checkpoint (checked whole and of this run). Every problem is a UserError
// naming the folder or file.
ExportResult export_model(const std::filesystem::path& run_dir, const std::filesystem::path& out);

}  // namespace thaw
