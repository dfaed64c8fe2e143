#pragma once
// Reads a whole file into memory; a missing or unreadable file is a UserError naming the path and
// the OS reason ("cannot read data/w.safetensors: No such file or directory").
#include <filesystem>
#include <string>

namespace thaw {

std::string read_file_bytes(const std::filesystem::path& path);

}  // namespace thaw
