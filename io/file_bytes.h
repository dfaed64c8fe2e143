#pragma once
// Reads a whole file into memory; a missing or unreadable file is a UserError naming the path and
// the OS reason ("cannot read data/w.safetensors: No such file or directory").
#include <filesystem>
#include <string>
#include <string_view>

namespace thaw {

// Only regular files: a device, pipe or directory is a UserError naming what it is, and a file
// larger than the memory available is one too (core/memory.h), before anything is allocated.
std::string read_file_bytes(const std::filesystem::path& path);
// A UserError unless `path` is a regular file (for readers that open it themselves).
void require_regular_file(const std::filesystem::path& path);
// "a directory", "a character device", "a pipe", ...: for st_mode values that are not regular files.
const char* special_file_kind(unsigned mode);
// The same; a file that cannot be read is a UserError "cannot read <path>: <missing>", for a
// message that tells the user what the file is ("not a thaw run folder (no record.json)").
std::string read_file_bytes(const std::filesystem::path& path, std::string_view missing);
// The bytes, or an empty string where the file cannot be read (callers for whom an absent file is
// an answer, not a mistake).
std::string read_file_or_empty(const std::filesystem::path& path);

}  // namespace thaw
