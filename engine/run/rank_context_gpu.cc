// RankContext's GPU side: --devices checked, which GPU each rank trains on, and what the run record
// says about them.
#include <unistd.h>

#include <cstring>

#include "core/error.h"
#include "engine/parallel/comm_mpi.h"
#include "engine/parallel/comm_nccl.h"
#include "engine/run/rank_context.h"
#include "engine/run/record_gpu.h"

#if THAW_HAVE_CUDA
#include "kernels/cuda/device_query.h"
#endif

namespace thaw {

namespace {

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

int gpu_count(std::string* why) {
#if THAW_HAVE_CUDA
  return cuda::device_count(why);
#else
  *why = "this thaw was built without CUDA";
  return 0;
#endif
}

}  // namespace

void RankContext::check_devices(const RankOptions& o) {
  if (o.devices.empty()) return;
  for (size_t i = 0; i < o.devices.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (o.devices[i] == o.devices[j] && o.gpu_comm == GpuTransport::Nccl) {
        fail_user("--devices: GPU ", o.devices[i], " is named twice; NCCL runs one rank per GPU (--gpu-comm staged "
                  "runs several ranks on one GPU, through host memory)");
      }
    }
  }
#if !THAW_HAVE_CUDA
  fail_user("--devices: this thaw was built without CUDA; use --ranks N for CPU ranks");
#endif
  std::string why;
  const int n = gpu_count(&why);
  if (n == 0) fail_user("--devices: ", why);
  for (int d : o.devices) {
    if (d < 0 || d >= n) fail_user("--devices: no GPU ", d, " (this machine has ", n, ": 0 to ", n - 1, ")");
  }
}

void RankContext::set_device(bool cuda) {
  cuda_ = cuda;
  if (!cuda) {
    if (!options_.devices.empty()) fail_user("--devices: GPU ranks train with --device cuda (this run's device is cpu)");
    return;
  }
  if (!launch_) return;  // thread ranks: the constructor checked --devices
  const int local = launch_->local_rank;
  if (!options_.devices.empty()) {
    if (local < 0) {
      fail_user("--devices under a launcher picks a process's GPU by its local rank, but the launcher sets none "
                "(OMPI_COMM_WORLD_LOCAL_RANK, MPI_LOCALRANKID, PMI_LOCAL_RANK or SLURM_LOCALID)");
    }
    if (local >= static_cast<int>(options_.devices.size())) {
      fail_user("--devices lists ", options_.devices.size(), " GPU(s) per node, but this process is local rank ", local,
                " (", launch_->local_source, "): start at most that many processes per node");
    }
    process_gpu_ = options_.devices[static_cast<size_t>(local)];
  } else if (local >= 0) {
    process_gpu_ = local;
  } else if (launch_->size > 1) {
    fail_user("--device cuda: cannot tell this process's GPU, the launcher sets no local rank (OMPI_COMM_WORLD_LOCAL_RANK, "
              "MPI_LOCALRANKID, PMI_LOCAL_RANK or SLURM_LOCALID); give --devices with one GPU and one process per node");
  }
  std::string why;
  const int n = gpu_count(&why);
  if (n == 0) fail_user("--device cuda: ", why);
  if (process_gpu_ >= n) {
    fail_user("--device cuda: this process (local rank ", local, ") would train on GPU ", process_gpu_, " but its node has ",
              n, " GPU(s): start at most ", n, " processes per node, or name the GPUs with --devices");
  }
}

nlohmann::ordered_json RankContext::gpu_ranks() {
  if (!cuda_) return nullptr;
  nlohmann::ordered_json out;
  const int n = total_ranks();
  out["transport"] = n == 1 ? "none" : std::string(gpu_transport_name(options_.gpu_comm));
  if (n > 1 && options_.gpu_comm == GpuTransport::Nccl) out["nccl"] = nccl_version();
  out["ranks"] = nlohmann::ordered_json::array();
  const std::string host = host_name();
  auto entry = [&](int rank, int gpu) {
    nlohmann::ordered_json e = {{"rank", rank}, {"host", host}};
    e.update(gpu_identity(gpu));
    return e;
  };
  if (!mpi_comm_ || mpi_comm_->size() == 1) {
    for (int r = 0; r < n; ++r) {
      const int gpu = mpi_ ? process_gpu_ : (options_.devices.empty() ? 0 : options_.devices[static_cast<size_t>(r)]);
      out["ranks"].push_back(entry(r, gpu));
    }
    return out;
  }
  // Every process describes its own GPU; rank 0 needs them all. Fixed-size texts, one gather.
  constexpr size_t kBytes = 1024;
  std::string mine = entry(mpi_comm_->rank(), process_gpu_).dump();
  mine.resize(kBytes, '\0');
  std::vector<char> all(kBytes * static_cast<size_t>(n));
  all_gather(*mpi_comm_, mine.data(), all.data(), kBytes, "each rank's GPU");
  for (int r = 0; r < n; ++r) {
    const char* text = all.data() + static_cast<size_t>(r) * kBytes;
    out["ranks"].push_back(nlohmann::ordered_json::parse(std::string(text, strnlen(text, kBytes))));
  }
  return out;
}

}  // namespace thaw
