#pragma once
// The temporaries of io/atomic_file.h that a process killed mid-write (kill -9, a scheduler's
// timeout, a power cut) leaves behind: ".<name>.tmp-<pid>-<n>". Only names of that form whose
// writer process no longer exists are touched, never a user's file or a live writer's.
#include <cstdint>
#include <filesystem>
#include <string_view>
#include <vector>

#include <sys/types.h>

namespace thaw {

// The pid in a temporary's name, or 0 when `filename` is not one of ours.
pid_t atomic_temp_writer(std::string_view filename);

struct RemovedLeftovers {
  std::vector<std::filesystem::path> files;
  uintmax_t bytes = 0;
};

// Removes dir's temporaries whose writer has exited (not recursive). For a caller that holds the
// folder (engine/run/run_lock.h) and has written nothing in it yet: a name with the caller's own
// pid is taken for a dead process of another pid namespace.
RemovedLeftovers remove_dead_temporaries(const std::filesystem::path& dir);

}  // namespace thaw
