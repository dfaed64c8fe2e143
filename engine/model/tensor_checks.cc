#include "engine/model/tensor_checks.h"

#include <cmath>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace thaw {

int64_t read_batches_tracked(const SafeTensorsFile& file, const std::string& name) {
  const SafeTensorInfo& info = file.info(name);
  const bool one = info.shape.empty() || (info.shape.size() == 1 && info.shape[0] == 1);
  if (!one) {
    fail_user(file.origin(), ": tensor ", name, " has shape ", shape_str(info.shape),
              ", expected one counter (shape [] or [1])");
  }
  const int64_t v = file.to_int64(name).at(0);
  if (v < 0) fail_user(file.origin(), ": tensor ", name, " is ", v, ", expected a count (0 or more)");
  return v;
}

template <typename T>
void check_finite(std::span<const T> values, std::string_view origin, std::string_view name) {
  for (size_t k = 0; k < values.size(); ++k) {
    if (!std::isfinite(values[k])) {
      fail_user(origin, ": tensor ", name, " holds ", std::isnan(values[k]) ? "NaN" : "an infinite value",
                " at index ", k, "; weights must be finite numbers");
    }
  }
}

template void check_finite<float>(std::span<const float>, std::string_view, std::string_view);
template void check_finite<double>(std::span<const double>, std::string_view, std::string_view);

std::vector<std::string> metadata_class_names(const std::map<std::string, std::string>& metadata,
                                              std::string_view origin) {
  const auto it = metadata.find("thaw_class_names");
  if (it == metadata.end()) return {};
  const nlohmann::json j = nlohmann::json::parse(it->second, nullptr, false);
  std::vector<std::string> names;
  const bool list = j.is_array() && !j.empty();
  if (list) {
    for (const auto& v : j) {
      if (!v.is_string()) break;
      names.push_back(v.get<std::string>());
    }
  }
  if (!list || names.size() != j.size()) {
    fail_user(origin, ": metadata thaw_class_names is not a JSON list of class names: ",
              it->second.substr(0, 80), it->second.size() > 80 ? "..." : "");
  }
  return names;
}

int64_t metadata_input_size(const std::map<std::string, std::string>& metadata, std::string_view origin) {
  const auto it = metadata.find("thaw_input_size");
  if (it == metadata.end()) return 0;
  const nlohmann::json j = nlohmann::json::parse(it->second, nullptr, false);
  if (!j.is_number_integer() || j.get<int64_t>() < 75 || j.get<int64_t>() > 4096) {
    fail_user(origin, ": metadata thaw_input_size is not an input size (75 to 4096): ", it->second.substr(0, 40));
  }
  return j.get<int64_t>();
}

}  // namespace thaw
