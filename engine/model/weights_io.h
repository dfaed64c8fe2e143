#pragma once
// Model weights in safetensors with timm's state_dict keys, so that timm loads what thaw writes and
// thaw loads what timm writes.
#include <filesystem>
#include <map>
#include <string>

#include "engine/model/model_state.h"
#include "graph/graph.h"

namespace thaw {

struct LoadReport {
  bool head_reinitialised = false;
  int64_t file_classes = 0;  // classes of the checkpoint's head; 0 when it has none
  std::string note;          // one line for the user when the head was replaced
};

// Loads every tensor of the graph from `path` into `state` (float, double or half dtypes).
// A classifier with another class count than the graph's, or none at all (a feature extractor),
// is re-initialised from `seed` (and said so in the report); any other missing, extra or mis-shaped tensor is a UserError naming the key
// and both shapes. A missing num_batches_tracked counter reads as 0.
template <typename T>
LoadReport load_weights(const std::filesystem::path& path, const Graph& g, ModelState<T>& state, uint64_t seed);

// Writes every tensor as F32 (num_batches_tracked as I64) through a temporary file and a rename.
template <typename T>
void save_weights(const std::filesystem::path& path, const Graph& g, const ModelState<T>& state,
                  const std::map<std::string, std::string>& metadata = {});

}  // namespace thaw
