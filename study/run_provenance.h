#pragma once
// Where a finished run's figures come from, byte for byte: its id, creation time and command, the
// thaw that trained it (version, commit, whether the tree had uncommitted changes), the SHA-256 of
// its record.json, its steps and their last chained parameter checksum, the SHA-256 of its data
// manifest (samples.csv), of its weights and of the weights it started from. For the validation
// report and for each arm of a sweep.
#include <filesystem>

#include <nlohmann/json.hpp>

namespace thaw {

// UserErrors name the file that cannot be read.
nlohmann::json run_provenance(const std::filesystem::path& run_dir);

// Whether the provenance's thaw was built from a tree with uncommitted changes (records say "yes").
bool built_dirty(const nlohmann::json& provenance);

}  // namespace thaw
