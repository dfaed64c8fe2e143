#pragma once
// The comm a GPU rank reduces its gradients with (TrainConfig::gpu_comm), made beside the rank's
// host comm (threads or MPI), which keeps carrying everything that lives in host memory (the stop
// vote, the configuration check, evaluation). Two transports, the same bits:
//   nccl    NCCL send/recv between the GPUs (engine/parallel/comm_nccl.h); one rank per GPU. The
//           communicator's id is made by rank 0 and sent to the others over the host comm.
//   staged  device memory copied through pinned host buffers and the host comm
//           (engine/parallel/comm_staged.h); any number of ranks per GPU, at host-copy speed.
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "engine/parallel/comm.h"

namespace thaw {

enum class GpuTransport { Nccl, Staged };

// "nccl" or "staged"; UserError naming --gpu-comm otherwise.
GpuTransport parse_gpu_transport(std::string_view text);
std::string_view gpu_transport_name(GpuTransport t);

// Rank host.rank() of host.size() on GPU `device`. Every rank calls it at the same time (the NCCL
// id travels over `host`, and the communicator forms only when all have joined). Without CUDA in
// the build, or without NCCL for the nccl transport, a UserError saying so.
std::unique_ptr<Comm> make_gpu_comm(GpuTransport transport, Comm& host, int device, std::chrono::milliseconds timeout);

}  // namespace thaw
