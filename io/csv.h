#pragma once
// Comma-separated values as RFC 4180 writes them: fields separated by commas, records by CRLF or
// LF; a field in double quotes may hold commas, line breaks and doubled quotes (""). A UTF-8 byte
// order mark at the start is skipped. The first record is the header; every record must have as
// many fields as the header. Errors are UserErrors naming the file and the line.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace thaw {

// Limits, checked as the text is parsed: a field of at most 1 MiB, a record of at most 4096 fields,
// and the parsed table within the memory available (core/memory.h).
inline constexpr size_t kMaxCsvFieldBytes = size_t{1} << 20;
inline constexpr int64_t kMaxCsvColumns = 4096;

struct CsvTable {
  std::string source;  // the name given to the parser (the file's path), for messages
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<int64_t> lines;  // the line (1-based) where each row starts, for messages

  // The column named `name` (exact match), or -1.
  int column(std::string_view name) const;
};

// `name` is used in messages (usually the file's path). Blank lines between records are skipped.
CsvTable parse_csv(std::string_view text, const std::string& name);
CsvTable read_csv(const std::filesystem::path& path);

// The field as a CSV writer must write it: quoted when it holds a comma, quote, CR or LF.
std::string csv_field(std::string_view s);

}  // namespace thaw
