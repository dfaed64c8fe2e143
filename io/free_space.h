#pragma once
// Free space where a run writes, checked before the work that would fill it: a full disk is one
// line up front ("R needs 560 MiB for ..., 120 MiB free") rather than a failed write after an
// epoch of training.
#include <cstdint>
#include <filesystem>
#include <string_view>

namespace thaw {

// Bytes an unprivileged process can still write in the file system holding `dir` (statvfs's
// f_bavail); -1 where it cannot be told.
int64_t free_bytes(const std::filesystem::path& dir);

// A UserError "<dir> needs N MiB for <what>, M MiB free" when `bytes` exceeds the free space.
void check_free_space(const std::filesystem::path& dir, int64_t bytes, std::string_view what);

}  // namespace thaw
