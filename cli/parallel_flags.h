#pragma once
// The flags that say how many ranks run a command (thaw train, thaw replay): --ranks, --devices,
// --gpu-comm, --rank-timeout. Under mpirun or srun the launcher decides instead (engine/run/rank_context.h).
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "engine/run/rank_context.h"

namespace thaw::cli {

struct ParallelFlags {
  int ranks = 1;
  std::vector<int> devices;
  std::string gpu_comm = "nccl";
  double rank_timeout_s = 60;
  RankOptions options() const;  // UserError for a timeout that is not positive
};

void add_parallel_flags(CLI::App* sub, ParallelFlags& flags);

}  // namespace thaw::cli
