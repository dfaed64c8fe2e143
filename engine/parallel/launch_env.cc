#include "engine/parallel/launch_env.h"

#include <charconv>
#include <cstdlib>
#include <cstring>

#include "core/error.h"

namespace thaw {

namespace {

int parse_int(const char* name, const char* text) {
  int v = 0;
  const char* end = text + std::strlen(text);
  const auto r = std::from_chars(text, end, v);
  if (r.ec != std::errc() || r.ptr != end || v < 0) {
    fail_user("the launcher's environment variable ", name, "=\"", text, "\" is not a rank number");
  }
  return v;
}

// Each launcher's pair of (rank, size) variables, the most specific first. Slurm's batch script
// sets SLURM_PROCID and SLURM_NTASKS too, for one process: only srun's job steps count
// (SLURM_STEP_NUM_TASKS).
constexpr const char* kPairs[][2] = {{"OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"},
                                     {"PMI_RANK", "PMI_SIZE"},
                                     {"PMIX_RANK", "OMPI_COMM_WORLD_SIZE"},
                                     {"SLURM_PROCID", "SLURM_STEP_NUM_TASKS"}};

constexpr const char* kLocalRanks[] = {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "PMI_LOCAL_RANK",
                                       "SLURM_LOCALID"};

void detect_local_rank(const std::function<const char*(const char*)>& getenv, LaunchEnv& e) {
  for (const char* name : kLocalRanks) {
    const char* v = getenv(name);
    if (v == nullptr) continue;
    e.local_rank = parse_int(name, v);
    e.local_source = name;
    return;
  }
}

}  // namespace

std::optional<LaunchEnv> detect_launch(const std::function<const char*(const char*)>& getenv) {
  for (const auto& pair : kPairs) {
    const char* rank = getenv(pair[0]);
    const char* size = getenv(pair[1]);
    if (rank == nullptr || size == nullptr) continue;
    LaunchEnv e;
    e.rank = parse_int(pair[0], rank);
    e.size = parse_int(pair[1], size);
    e.source = cat_str(pair[0], "/", pair[1]);
    if (e.size < 1 || e.rank >= e.size) {
      fail_user("the launcher's environment says rank ", e.rank, " of ", e.size, " (", e.source, ")");
    }
    detect_local_rank(getenv, e);
    return e;
  }
  return std::nullopt;
}

std::optional<LaunchEnv> detect_launch() {
  return detect_launch([](const char* name) { return static_cast<const char*>(std::getenv(name)); });
}

}  // namespace thaw
