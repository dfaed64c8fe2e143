#pragma once
// Whether a parallel launcher (mpirun, mpiexec, srun) started this process, and as which rank:
// read from the environment the launcher sets, before MPI is initialised.
#include <functional>
#include <optional>
#include <string>

namespace thaw {

struct LaunchEnv {
  int rank = 0;
  int size = 1;
  std::string source;  // the variables it came from, for messages: "OMPI_COMM_WORLD_RANK/SIZE"
  // The rank among this node's processes (a GPU rank's GPU), -1 where the launcher does not say:
  // OMPI_COMM_WORLD_LOCAL_RANK, MPI_LOCALRANKID (MPICH, Intel MPI), PMI_LOCAL_RANK, SLURM_LOCALID.
  int local_rank = -1;
  std::string local_source;  // the variable it came from
};

// OpenMPI (OMPI_COMM_WORLD_RANK/SIZE), MPICH and Intel MPI (PMI_RANK/PMI_SIZE), PMIx launchers
// (PMIX_RANK with OMPI or PMI sizes) and Slurm's srun (SLURM_PROCID/SLURM_NTASKS inside a job step,
// SLURM_STEP_ID set). Empty when none is set. A malformed value is a UserError naming the variable.
// `getenv` is the lookup (std::getenv in production, a map in tests).
std::optional<LaunchEnv> detect_launch(const std::function<const char*(const char*)>& getenv);
std::optional<LaunchEnv> detect_launch();

}  // namespace thaw
