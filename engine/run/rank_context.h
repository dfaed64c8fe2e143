#pragma once
// How this process takes part in a run: alone, as the host of N thread ranks (--ranks N), or as
// one MPI process of a job that mpirun or srun started (rank and size from the launcher's
// environment). Every rank runs the same training loop on its own replica of the model; only
// rank 0 writes the run folder, and a step's numbers are the same bits on every rank.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/parallel/comm.h"
#include "engine/parallel/gpu_comm.h"
#include "engine/parallel/launch_env.h"
#include "engine/model/model_state.h"
#include "engine/train/trainer.h"
#include "graph/graph.h"
#include "io/dataset.h"

namespace thaw {

class MpiSession;
class MpiComm;

struct RankOptions {
  int threads = 1;                // --ranks: thread ranks in this process
  // --devices: one thread rank per entry, on that GPU (--device cuda); under mpirun or srun, the
  // GPUs of a node's processes by local rank (default: GPU = local rank).
  std::vector<int> devices;
  GpuTransport gpu_comm = GpuTransport::Nccl;  // --gpu-comm (engine/parallel/gpu_comm.h)
  std::chrono::milliseconds timeout = kDefaultRankTimeout;  // --rank-timeout
};

class RankContext {
 public:
  // Checks the options against the launch (UserError naming --ranks / --devices) and, under a
  // launcher, initialises MPI.
  explicit RankContext(const RankOptions& options);
  ~RankContext();
  RankContext(const RankContext&) = delete;
  RankContext& operator=(const RankContext&) = delete;

  int total_ranks() const;
  GpuTransport gpu_transport() const { return options_.gpu_comm; }
  // Whether this process is (or hosts) rank 0, the one that writes the run folder and prints.
  bool is_writer() const;
  std::string describe() const;  // "1 rank", "4 thread ranks", "MPI rank 1 of 2"
  // The comm between MPI processes; null when this process is not one of several.
  Comm* process_comm();

  // Runs `body` (a command's work on this process). Under MPI with more than one process an
  // error is printed here, with the rank, and ends the whole job (exit code 2 for a UserError,
  // else 1), so that no other process waits for this one; otherwise it propagates.
  void run(const std::function<void()>& body);

  // The run's device, once known (before train): --devices needs cuda; under a launcher the
  // process's GPU is picked (by local rank) and checked. UserError naming the flag otherwise.
  void set_device(bool cuda);
  // The GPU each rank trains on, for the run record (a collective under MPI: every process calls
  // it): {"transport", "nccl" (version, for that transport), "ranks": [{rank, host, gpu, name, uuid}]};
  // null for a CPU run.
  nlohmann::ordered_json gpu_ranks();

  // Every process must run the same configuration: the texts' SHA-256 are compared across MPI
  // ranks; where they differ, every rank fails with a UserError naming the first differing field
  // (for JSON objects) and the ranks. Nothing to do for thread ranks (one configuration).
  void agree_on(const std::string& config_json);

  // train() on each rank this process holds, with comm, ranks and the per-rank settings filled
  // in. The state, log and observer given are rank 0's (thread ranks copy the state; other MPI
  // processes pass their own). The observer is called on rank 0 of thread ranks, and on every MPI
  // process that passes one; training stops after a step on every rank when any of them says so.
  // Every rank evaluates (the ranks stay in step); only rank 0 writes metrics and progress.
  TrainSummary train(const Graph& g, ModelState<float>& state, const Dataset& train_data, const Dataset* val_data,
                     TrainConfig cfg, std::ostream& log, StepObserver* observer);

 private:
  // --devices against this machine's GPUs (rank_context_gpu.cc); UserError naming it.
  static void check_devices(const RankOptions& o);
  int thread_ranks() const { return options_.devices.empty() ? options_.threads : static_cast<int>(options_.devices.size()); }
  TrainSummary train_threads(const Graph& g, ModelState<float>& state, const Dataset& train_data,
                             const Dataset* val_data, const TrainConfig& cfg, std::ostream& log,
                             StepObserver* observer);

  RankOptions options_;
  std::optional<LaunchEnv> launch_;
  bool cuda_ = false;
  int process_gpu_ = 0;  // under a launcher with --device cuda: this process's GPU
  std::unique_ptr<MpiSession> mpi_;
  std::unique_ptr<MpiComm> mpi_comm_;
};

}  // namespace thaw
