#include "io/pack_format.h"

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/json_int.h"
#include "io/file_bytes.h"
#include "io/image_decode.h"

namespace thaw {

std::string pack_manifest_json(const PackManifest& m) {
  nlohmann::ordered_json j;
  j["format"] = kPackFormat;
  j["version"] = kPackVersion;
  j["input_size"] = m.input_size;
  j["side"] = m.side;
  j["source"] = m.source;
  j["class_names"] = m.class_names;
  j["has_split_column"] = m.has_split_column;
  j["has_group_column"] = m.has_group_column;
  j["shards"] = nlohmann::ordered_json::array();
  for (const PackShard& s : m.shards) j["shards"].push_back({{"file", s.file}, {"bytes", s.bytes}});
  j["skipped"] = m.skipped;
  j["pixel_mapping"] = m.pixel_mapping;
  j["samples"] = nlohmann::ordered_json::array();
  for (const PackSample& s : m.samples) {
    j["samples"].push_back({{"path", s.path},
                            {"label", s.label},
                            {"split", split_name(s.split)},
                            {"group", s.group},
                            {"key", s.key},
                            {"shard", s.shard},
                            {"offset", s.offset},
                            {"width", s.width},
                            {"height", s.height},
                            {"sha256", s.sha256},
                            {"source_sha256", s.source_sha256}});
  }
  return j.dump(1) + "\n";
}

bool is_pack_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  return std::filesystem::is_directory(dir, ec) && std::filesystem::is_regular_file(dir / kPackManifestName, ec);
}

namespace {

template <typename T>
T field(const nlohmann::json& j, const char* key, const std::string& where) {
  const auto it = j.find(key);
  if (it == j.end()) fail_user(where, ": missing \"", key, "\"");
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    if (!json_holds<T>(*it)) fail_user(where, ": \"", key, "\" is ", it->dump(), ", expected an integer in range");
  }
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception&) {
    fail_user(where, ": \"", key, "\" has the wrong type");
  }
}

}  // namespace

PackManifest read_pack_manifest(const std::filesystem::path& dir) {
  const std::filesystem::path file = dir / kPackManifestName;
  return parse_pack_manifest(read_file_bytes(file), file.string());
}

PackManifest parse_pack_manifest(std::string_view text, const std::string& name) {
  // nlohmann's parser ends its input at a NUL byte; what followed it would go unread.
  if (text.find('\0') != std::string_view::npos) fail_user(name, ": not valid JSON (a NUL byte)");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {
    fail_user(name, ": not valid JSON (", e.what(), ")");
  }
  if (!j.is_object() || !j.contains("format") || !j["format"].is_string() || j["format"] != kPackFormat) {
    fail_user(name, ": expected format \"", kPackFormat, "\"");
  }
  const int version = field<int>(j, "version", name);
  if (version > kPackVersion) {
    fail_user(name, ": pack version ", version, " is newer than this thaw reads (", kPackVersion, ")");
  }
  PackManifest m;
  m.input_size = field<int64_t>(j, "input_size", name);
  m.side = field<int64_t>(j, "side", name);
  m.source = field<std::string>(j, "source", name);
  m.class_names = field<std::vector<std::string>>(j, "class_names", name);
  m.has_split_column = field<bool>(j, "has_split_column", name);
  m.has_group_column = field<bool>(j, "has_group_column", name);
  m.skipped = field<std::vector<std::string>>(j, "skipped", name);
  if (j.contains("pixel_mapping")) m.pixel_mapping = field<std::string>(j, "pixel_mapping", name);
  if (m.class_names.empty()) fail_user(name, ": no classes");
  if (m.input_size < 1 || m.side < 1) fail_user(name, ": input_size and side must be positive");
  for (const nlohmann::json& s : field<nlohmann::json>(j, "shards", name)) {
    PackShard sh;
    sh.file = field<std::string>(s, "file", name);
    sh.bytes = field<int64_t>(s, "bytes", name);
    if (sh.file.empty() || sh.file.find('/') != std::string::npos || sh.file[0] == '.') {
      fail_user(name, ": shard file name '", sh.file, "' must be a plain name inside the pack folder");
    }
    m.shards.push_back(std::move(sh));
  }
  const nlohmann::json samples = field<nlohmann::json>(j, "samples", name);
  if (!samples.is_array()) fail_user(name, ": \"samples\" has the wrong type");
  m.samples.reserve(samples.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    const nlohmann::json& s = samples[i];
    const std::string where = cat_str(name, ": sample ", i);
    PackSample p;
    p.path = field<std::string>(s, "path", where);
    const std::string at = cat_str(where, " (", p.path, ")");
    p.label = field<int32_t>(s, "label", at);
    const auto split = parse_split(field<std::string>(s, "split", at));
    if (!split) fail_user(at, ": split is not one of train, val, test");
    p.split = *split;
    p.group = field<std::string>(s, "group", at);
    p.key = field<int64_t>(s, "key", at);
    p.shard = field<int32_t>(s, "shard", at);
    p.offset = field<int64_t>(s, "offset", at);
    p.width = field<int64_t>(s, "width", at);
    p.height = field<int64_t>(s, "height", at);
    p.sha256 = field<std::string>(s, "sha256", at);
    p.source_sha256 = field<std::string>(s, "source_sha256", at);
    if (p.label < 0 || p.label >= static_cast<int32_t>(m.class_names.size())) {
      fail_user(at, ": label ", p.label, " is not one of the ", m.class_names.size(), " classes");
    }
    if (p.key < 0 || p.key > UINT32_MAX) fail_user(at, ": key ", p.key, " out of range");
    if (p.shard < 0 || p.shard >= static_cast<int32_t>(m.shards.size())) {
      fail_user(at, ": shard ", p.shard, " is not one of the ", m.shards.size(), " shards");
    }
    // Each side bounded first, so that the product cannot overflow.
    if (p.width < 1 || p.height < 1 || p.width > kMaxImagePixels || p.height > kMaxImagePixels ||
        p.width * p.height > kMaxImagePixels) {
      fail_user(at, ": image size ", p.width, "x", p.height, " out of range");
    }
    const int64_t shard_bytes = m.shards[static_cast<size_t>(p.shard)].bytes;
    if (p.offset < kShardHeaderBytes || p.offset % kPackAlign != 0 || p.offset > shard_bytes ||
        p.width * p.height * 3 > shard_bytes - p.offset) {
      fail_user(at, ": bytes at ", p.offset, " do not lie within shard ", m.shards[static_cast<size_t>(p.shard)].file);
    }
    m.samples.push_back(std::move(p));
  }
  return m;
}

}  // namespace thaw
