#include "cli/flag_range.h"
#include "cli/parallel_flags.h"

#include <cmath>

#include "core/error.h"

namespace thaw::cli {

RankOptions ParallelFlags::options() const {
  if (!(rank_timeout_s > 0) || !std::isfinite(rank_timeout_s)) {
    fail_user("--rank-timeout: expected a positive number of seconds, got ", rank_timeout_s);
  }
  RankOptions o;
  o.threads = ranks;
  o.devices = devices;
  o.gpu_comm = parse_gpu_transport(gpu_comm);
  o.timeout = std::chrono::milliseconds(static_cast<int64_t>(std::ceil(rank_timeout_s * 1000.0)));
  return o;
}

void add_parallel_flags(CLI::App* sub, ParallelFlags& f) {
  sub->add_option("--ranks", f.ranks,
                  "Data-parallel ranks as threads on the CPU (a power of two dividing --shards); the bits do not "
                  "depend on it. Under mpirun/srun each process is a rank instead")
      ->capture_default_str()->check(in_range(whole(1, kMaxThreads)));
  sub->add_option("--devices", f.devices,
                  "With --device cuda: one rank per GPU as threads, e.g. 0,1,2,3 (a power of two dividing --shards); "
                  "under mpirun/srun, the GPUs of each node's processes by local rank")
      ->delimiter(',')->check(in_range(whole(0, 1023)));
  sub->add_option("--gpu-comm", f.gpu_comm,
                  "How GPU ranks exchange gradients: nccl, or staged (through host memory; allows several ranks on "
                  "one GPU, e.g. --devices 0,0); never changes the bits")
      ->capture_default_str();
  sub->add_option("--rank-timeout", f.rank_timeout_s,
                  "Seconds a rank waits for another before it stops the run, naming the silent rank")
      ->capture_default_str()->check(in_range(real(0, 604800, true)));
}

}  // namespace thaw::cli
