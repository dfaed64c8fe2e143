#pragma once
// What a model is for, as its validation report states it: a sidecar the user writes, YAML (or
// JSON) with these keys, each a text or a list of texts:
//   intended_use, indication, population, sites, devices, reference_standard, exclusions, notes
// A key outside the list, or a value that is neither, is a UserError naming the file and the key.
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace thaw {

// The keys, in the order the report shows them, with their headings.
const std::vector<std::pair<std::string, std::string>>& intended_use_fields();

struct IntendedUse {
  std::vector<std::pair<std::string, std::vector<std::string>>> fields;  // key, its texts (file order)
};

IntendedUse read_intended_use(const std::filesystem::path& file);

}  // namespace thaw
