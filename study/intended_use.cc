#include "study/intended_use.h"

#include <yaml-cpp/yaml.h>

#include "core/error.h"
#include "io/file_bytes.h"

namespace thaw {

const std::vector<std::pair<std::string, std::string>>& intended_use_fields() {
  static const std::vector<std::pair<std::string, std::string>> kFields = {
      {"intended_use", "Intended use"},
      {"indication", "Indication"},
      {"population", "Patient population"},
      {"sites", "Sites"},
      {"devices", "Acquisition devices"},
      {"reference_standard", "Reference standard"},
      {"exclusions", "Exclusions"},
      {"notes", "Notes"},
  };
  return kFields;
}

IntendedUse read_intended_use(const std::filesystem::path& file) {
  if (!std::filesystem::is_regular_file(file)) fail_user("--intended-use: ", file.string(), " not found");
  YAML::Node root;
  try {
    root = YAML::Load(read_file_bytes(file));
  } catch (const YAML::Exception& e) {
    fail_user(file.string(), ": not valid YAML: line ", e.mark.line + 1, ": ", e.msg);
  }
  if (!root.IsMap()) fail_user(file.string(), ": expected a mapping (intended_use: ..., indication: ..., ...)");
  IntendedUse u;
  for (const auto& kv : root) {
    const std::string key = kv.first.Scalar();
    bool known = false;
    std::string names;
    for (const auto& [k, heading] : intended_use_fields()) {
      known = known || k == key;
      names += (names.empty() ? "" : ", ") + k;
    }
    if (!known) fail_user(file.string(), ": '", key, "' is not a field of the intended-use sidecar (expected ", names, ")");
    std::vector<std::string> texts;
    if (kv.second.IsScalar()) {
      texts.push_back(kv.second.Scalar());
    } else if (kv.second.IsSequence()) {
      for (const YAML::Node& e : kv.second) {
        if (!e.IsScalar()) fail_user(file.string(), ": ", key, ": expected a text or a list of texts");
        texts.push_back(e.Scalar());
      }
    } else {
      fail_user(file.string(), ": ", key, ": expected a text or a list of texts");
    }
    u.fields.emplace_back(key, texts);
  }
  return u;
}

}  // namespace thaw
