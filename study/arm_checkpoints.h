#pragma once
// A finished sweep arm's checkpoints: thaw train keeps up to --keep-checkpoints of them (about
// 180 MB each for Inception v4) so that a stopped run can resume. A sweep arm that finished never
// resumes (--resume of a sweep keeps finished arms and reruns the others from the start), and
// `thaw replay`, `thaw eval` and `thaw export` of a finished run read weights.safetensors, so the
// sweep removes them once the arm is trained and evaluated, unless --keep-arm-checkpoints.
#include <cstdint>
#include <filesystem>
#include <ostream>
#include <string>

namespace thaw {

// Removes RUN_DIR/checkpoint-*.safetensors and says so on `log` in one line naming the arm, the
// number of files and the space freed (nothing is said when there were none). Returns the bytes
// freed. A file that cannot be removed is named in a warning; the arm stays finished.
uintmax_t remove_arm_checkpoints(const std::filesystem::path& run_dir, const std::string& arm, std::ostream& log);

}  // namespace thaw
