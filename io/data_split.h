#pragma once
// The three splits of a dataset, and their names in CSV files and messages.
#include <optional>
#include <string>
#include <string_view>

namespace thaw {

enum class DataSplit { Train, Val, Test };

const char* split_name(DataSplit s);  // "train", "val", "test"
// train/training, val/valid/validation, test/testing, in any case; nullopt otherwise.
std::optional<DataSplit> parse_split(std::string_view s);

}  // namespace thaw
