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

// A StagedComm with the device context, space and staging it needs, owned together.
class StagedGpuComm final : public Comm {
 public:
  StagedGpuComm(Comm& host, int device)
      : ctx_(device), space_(ctx_), staging_(ctx_), staged_(host, space_, staging_) {}
  int rank() const override { return staged_.rank(); }
  int size() const override { return staged_.size(); }
  std::string_view kind() const override { return staged_.kind(); }
  BufferSpace& space() override { return staged_.space(); }
  bool any_thread() const override { return staged_.any_thread(); }
  void exchange(std::span<const Transfer> sends, std::span<const Transfer> recvs, std::string_view what) override {
    staged_.exchange(sends, recvs, what);
  }
  void abort(const std::string& why) override { staged_.abort(why); }
  bool stopped() const override { return staged_.stopped(); }

 private:
  cuda::Context ctx_;
  DeviceSpace space_;
  CudaStaging staging_;
  StagedComm staged_;
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
