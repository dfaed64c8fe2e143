#pragma once
// Whole-file writes that either happen completely or not at all: the bytes go to a temporary file
// in the destination's directory, are fsync'ed, and the temporary is renamed over the destination.
// On any failure (including an exception from the caller's writer) the temporary is removed and
// the destination is left as it was. Errors are UserErrors naming the path and the OS reason:
// "cannot write out/w.safetensors: No such file or directory".
#include <filesystem>
#include <functional>
#include <ostream>
#include <string_view>

namespace thaw {

// `write` streams the file's contents; it may throw, which aborts the write and propagates.
void write_file_atomic(const std::filesystem::path& path, const std::function<void(std::ostream&)>& write);
void write_file_atomic(const std::filesystem::path& path, std::string_view bytes);

}  // namespace thaw
