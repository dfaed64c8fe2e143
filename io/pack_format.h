#pragma once
// A packed dataset (`thaw pack`): images decoded once, stored as uint8 RGB at a reduced size in
// memory-mappable shard files, described by a JSON manifest. Layout of a pack folder:
//
//   pack.json                      the manifest (format "thaw-pack", version 1), written last
//   shard-NNNNN-<id>.bin           "THAWPACK", a little-endian uint32 version, zeros to byte 64;
//                                  then the samples, each starting at a multiple of 64 bytes:
//                                  height x width x 3 bytes, rows top to bottom, RGB interleaved
//
// <id> is derived from the pack's settings and its sources (paths, sizes, modification times,
// labels, splits, groups), so packing other data into the same folder never overwrites a shard an
// older pack.json still names; shards no manifest names are removed after the new one is in place.
//
// Stored size: an image whose shorter side is longer than `side` is resized (antialiased bilinear,
// as io/resample.h) so that its shorter side is `side` and its longer side side * long / short,
// truncated: exactly the intermediate size of the evaluation transform when side is the default
// floor(input_size / 0.875). Smaller images are stored as decoded. The whole image is kept, so the
// training random-resized crop still sees all of it.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "io/data_split.h"

namespace thaw {

inline constexpr const char* kPackManifestName = "pack.json";
inline constexpr const char* kPackFormat = "thaw-pack";
inline constexpr int kPackVersion = 1;
inline constexpr char kShardMagic[8] = {'T', 'H', 'A', 'W', 'P', 'A', 'C', 'K'};
inline constexpr int64_t kShardHeaderBytes = 64;
inline constexpr int64_t kPackAlign = 64;

struct PackSample {
  std::string path;        // the source file (absolute when packed)
  int32_t label = 0;
  DataSplit split = DataSplit::Train;
  std::string group;       // empty: its own group
  int64_t key = 0;         // index in the source manifest: the sample index of its augmentation
  int32_t shard = 0;
  int64_t offset = 0, width = 0, height = 0;
  std::string sha256;         // of the stored pixels (width * height * 3 bytes)
  std::string source_sha256;  // of the source file's bytes
};

struct PackShard {
  std::string file;
  int64_t bytes = 0;
};

struct PackManifest {
  int64_t input_size = 0, side = 0;
  std::string source;  // the data folder or CSV that was packed
  std::vector<std::string> class_names;
  bool has_split_column = false, has_group_column = false;
  std::vector<PackShard> shards;
  std::vector<PackSample> samples;
  std::vector<std::string> skipped;  // files left out (--on-bad-image skip), each with its reason
  // How the source samples became 8-bit pixels (io/pixel_mapping.h); empty in packs older than it.
  std::string pixel_mapping;

  int64_t sample_bytes(size_t i) const { return samples[i].width * samples[i].height * 3; }
};

std::string pack_manifest_json(const PackManifest& m);

// Whether `dir` is a folder holding pack.json.
bool is_pack_dir(const std::filesystem::path& dir);

// Reads and checks pack.json (format, version, classes, labels, splits, shard references, sample
// extents against the shard sizes it records). Every problem is a UserError naming pack.json and,
// where there is one, the sample.
PackManifest read_pack_manifest(const std::filesystem::path& dir);
// The same checks on pack.json's text; `name` is used in messages.
PackManifest parse_pack_manifest(std::string_view text, const std::string& name);

}  // namespace thaw
