#pragma once
// The data manifest of a run record: per sample its split, index, label, content hash and source
// (samples.csv), the manifest's SHA-256, and per split its description and counts per class.
// The source column (the sample's file relative to the data's root, io/datasets.h) came later:
// records without `data.samples_columns` have the first four columns only, and are checked so.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/dataset.h"

namespace thaw {

struct DataManifest {
  std::string csv;     // samples.csv: "split,index,label,content_sha256[,source]" then one line per sample
  std::string sha256;  // SHA-256 of csv, byte for byte (`sha256sum samples.csv` prints it)
  nlohmann::ordered_json splits;  // {"train": {"description", "samples", "content_hash_of", "counts_per_class"}, ...}
};

// Hashes every sample of every split (in parallel, each into its own slot). A dataset without
// content hashes is hashed as decoded: the float input at input_size, 4-byte little-endian floats.
// The columns of a manifest with sources, as the record's data.samples_columns names them.
inline constexpr const char* kManifestColumns = "split,index,label,content_sha256,source";

// with_source: the fifth column, each sample's source path relative to `root` (as it is when root
// is empty or the path lies elsewhere; empty for samples without a file), CSV-quoted where needed.
DataManifest make_manifest(const std::vector<std::pair<std::string, const Dataset*>>& splits, int64_t input_size,
                           bool with_source = false, const std::filesystem::path& root = {});

// The first sample whose manifest line differs, said for a user: "train sample 5 (line 7 of
// samples.csv, mel/ISIC_1.jpg): content_sha256 recorded 1f.., now 9a.." (the file named where the
// manifest has sources). Empty when the manifests are equal.
std::string first_manifest_difference(std::string_view recorded_csv, std::string_view present_csv);

}  // namespace thaw
