#pragma once
// What a weights file's values must be before a model uses them, each failure one line naming the
// file and the key: a batch-norm counter is one non-negative integer (a scalar or [1], as PyTorch
// writes it), every weight and statistic is finite (a NaN would make predict write "nan"
// probabilities; an infinity silently changes outputs), and the class names in the metadata are
// a JSON list of strings.
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "io/safetensors.h"

namespace thaw {

int64_t read_batches_tracked(const SafeTensorsFile& file, const std::string& name);

template <typename T>
void check_finite(std::span<const T> values, std::string_view origin, std::string_view name);

// The metadata's "thaw_class_names" (written by thaw train): empty where the file has none; a value
// that is not a JSON list of strings is a UserError naming the file.
std::vector<std::string> metadata_class_names(const std::map<std::string, std::string>& metadata,
                                              std::string_view origin);

// The metadata's "thaw_input_size" (written by thaw train since it was added): 0 where the file has
// none; a value that is not a size of at least 75 is a UserError naming the file.
int64_t metadata_input_size(const std::map<std::string, std::string>& metadata, std::string_view origin);

}  // namespace thaw
