#include "engine/parallel/gpu_comm.h"

#include "core/error.h"
#include "engine/parallel/comm_nccl.h"
#include "engine/parallel/comm_staged.h"
#if THAW_HAVE_CUDA
#include "engine/parallel/device_space.h"
#include "kernels/cuda/context.h"
#endif

namespace thaw {

GpuTransport parse_gpu_transport(std::string_view text) {
  if (text == "nccl") return GpuTransport::Nccl;
  if (text == "staged") return GpuTransport::Staged;
  fail_user("--gpu-comm: expected nccl or staged, got '", text, "'");
}

std::string_view gpu_transport_name(GpuTransport t) { return t == GpuTransport::Nccl ? "nccl" : "staged"; }

#if THAW_HAVE_CUDA

namespace {

// What a StagedComm on a GPU refers to: built before the comm (a base class), destroyed after it.
struct StagingParts {
  explicit StagingParts(int device) : context(device), memory(context), copies(context) {}
  cuda::Context context;
  DeviceSpace memory;
  CudaStaging copies;
};

class StagedGpuComm final : private StagingParts, public StagedComm {
 public:
  StagedGpuComm(Comm& host, int device) : StagingParts(device), StagedComm(host, memory, copies) {}
};

}  // namespace

std::unique_ptr<Comm> make_gpu_comm(GpuTransport transport, Comm& host, int device, std::chrono::milliseconds timeout) {
  if (transport == GpuTransport::Staged) return std::make_unique<StagedGpuComm>(host, device);
  // Rank 0 alone may fail to load NCCL: it says so in the id's first byte, and every rank stops.
  NcclId id{};
  std::string why;
  char ok = 1;
  if (host.rank() == 0) {
    ok = nccl_available(&why) ? 1 : 0;
    if (ok) id = nccl_unique_id();
  }
  broadcast(host, &ok, 1, 0, "whether NCCL loads on rank 0");
  if (!ok) fail_user("--gpu-comm nccl: ", host.rank() == 0 ? why : "rank 0 cannot load NCCL",
                     "; install NCCL 2 (libnccl.so.2) or use --gpu-comm staged");
  broadcast(host, id.data(), id.size(), 0, "the NCCL communicator's id");
  return std::make_unique<NcclComm>(id, host.rank(), host.size(), device, timeout, &host);
}

#else

std::unique_ptr<Comm> make_gpu_comm(GpuTransport, Comm&, int, std::chrono::milliseconds) {
  fail_user("GPU ranks: this thaw was built without CUDA");
}

#endif

}  // namespace thaw
