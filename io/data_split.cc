#include "io/data_split.h"

#include <cctype>

namespace thaw {

const char* split_name(DataSplit s) {
  switch (s) {
    case DataSplit::Train: return "train";
    case DataSplit::Val: return "val";
    case DataSplit::Test: return "test";
  }
  return "?";
}

std::optional<DataSplit> parse_split(std::string_view s) {
  std::string lower;
  for (char c : s) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "train" || lower == "training") return DataSplit::Train;
  if (lower == "val" || lower == "valid" || lower == "validation") return DataSplit::Val;
  if (lower == "test" || lower == "testing") return DataSplit::Test;
  return std::nullopt;
}

}  // namespace thaw
