#include "engine/parallel/comm_nccl.h"

#include "core/error.h"

#if THAW_HAVE_CUDA

#include <dlfcn.h>
#include <nccl.h>

#include <algorithm>
#include <cstring>
#include <thread>

#include "engine/parallel/device_space.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"

namespace thaw {

namespace {

// libnccl opened at run time; closed when the last user lets go.
class NcclLibrary {
 public:
  NcclLibrary() {
    handle_ = dlopen("libnccl.so.2", RTLD_NOW | RTLD_LOCAL);
    if (!handle_) {
      const char* e = dlerror();
      error_ = cat_str("cannot load libnccl.so.2 (", e ? e : "dlopen failed", ")");
      return;
    }
    bool ok = true;
    auto bind = [&](auto& fn, const char* name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(handle_, name));
      if (!fn && ok) {
        ok = false;
        error_ = cat_str("libnccl.so.2 has no ", name, " (NCCL 2.14 or newer is needed)");
      }
    };
    bind(GetVersion, "ncclGetVersion");
    bind(GetUniqueId, "ncclGetUniqueId");
    bind(CommInitRankConfig, "ncclCommInitRankConfig");
    bind(CommGetAsyncError, "ncclCommGetAsyncError");
    bind(CommAbort, "ncclCommAbort");
    bind(CommDestroy, "ncclCommDestroy");
    bind(Send, "ncclSend");
    bind(Recv, "ncclRecv");
    bind(GroupStart, "ncclGroupStart");
    bind(GroupEnd, "ncclGroupEnd");
    bind(GetErrorString, "ncclGetErrorString");
  }
  ~NcclLibrary() {
    if (handle_) dlclose(handle_);
  }
  NcclLibrary(const NcclLibrary&) = delete;
  NcclLibrary& operator=(const NcclLibrary&) = delete;

  bool ok() const { return handle_ && error_.empty(); }
  const std::string& error() const { return error_; }

  void check(ncclResult_t r, const char* call, std::string_view context) const {
    if (r != ncclSuccess && r != ncclInProgress) {
      fail_internal(call, " (", context, "): ", GetErrorString ? GetErrorString(r) : "NCCL error");
    }
  }

  ncclResult_t (*GetVersion)(int*) = nullptr;
  ncclResult_t (*GetUniqueId)(ncclUniqueId*) = nullptr;
  ncclResult_t (*CommInitRankConfig)(ncclComm_t*, int, ncclUniqueId, int, ncclConfig_t*) = nullptr;
  ncclResult_t (*CommGetAsyncError)(ncclComm_t, ncclResult_t*) = nullptr;
  ncclResult_t (*CommAbort)(ncclComm_t) = nullptr;
  ncclResult_t (*CommDestroy)(ncclComm_t) = nullptr;
  ncclResult_t (*Send)(const void*, size_t, ncclDataType_t, int, ncclComm_t, cudaStream_t) = nullptr;
  ncclResult_t (*Recv)(void*, size_t, ncclDataType_t, int, ncclComm_t, cudaStream_t) = nullptr;
  ncclResult_t (*GroupStart)() = nullptr;
  ncclResult_t (*GroupEnd)() = nullptr;
  const char* (*GetErrorString)(ncclResult_t) = nullptr;

 private:
  void* handle_ = nullptr;
  std::string error_;
};

std::shared_ptr<NcclLibrary> load_nccl() {
  auto lib = std::make_shared<NcclLibrary>();
  if (!lib->ok()) fail_user("GPU ranks need NCCL: ", lib->error());
  return lib;
}

}  // namespace

bool nccl_available(std::string* why) {
  const NcclLibrary lib;
  if (!lib.ok() && why) *why = lib.error();
  return lib.ok();
}

std::string nccl_version() {
  const NcclLibrary lib;
  int v = 0;
  if (!lib.ok() || lib.GetVersion(&v) != ncclSuccess) return {};
  // NCCL_VERSION_CODE: major * 10000 + minor * 100 + patch since 2.9.
  return cat_str(v / 10000, ".", (v / 100) % 100, ".", v % 100);
}

NcclId nccl_unique_id() {
  const std::shared_ptr<NcclLibrary> lib = load_nccl();
  ncclUniqueId id;
  lib->check(lib->GetUniqueId(&id), "ncclGetUniqueId", "making the communicator's id");
  static_assert(sizeof(ncclUniqueId) == sizeof(NcclId));
  NcclId out;
  std::memcpy(out.data(), &id, sizeof id);
  return out;
}

struct NcclComm::Impl {
  std::shared_ptr<NcclLibrary> lib;
  std::unique_ptr<cuda::Context> ctx;
  std::unique_ptr<DeviceSpace> space;
  ncclComm_t comm = nullptr;
  const Comm* group = nullptr;
  int device = 0;
  bool failed = false;

  // Also when a constructor throws: a communicator with work that will never finish cannot be
  // destroyed, only aborted.
  ~Impl() {
    if (!comm) return;
    cudaSetDevice(device);
    if (failed) {
      lib->CommAbort(comm);
    } else {
      lib->CommDestroy(comm);
    }
  }

  // Polls NCCL's state and the stream until both are done; false at the deadline.
  bool wait(std::chrono::steady_clock::time_point deadline, bool stream_too, std::string_view what) {
    auto pause = std::chrono::microseconds(20);
    for (;;) {
      ncclResult_t state = ncclSuccess;
      lib->check(lib->CommGetAsyncError(comm, &state), "ncclCommGetAsyncError", what);
      if (state != ncclSuccess && state != ncclInProgress) {
        failed = true;
        fail_internal("NCCL (", what, "): ", lib->GetErrorString(state));
      }
      if (state == ncclSuccess) {
        if (!stream_too) return true;
        const cudaError_t s = cudaStreamQuery(ctx->stream());
        if (s == cudaSuccess) return true;
        if (s != cudaErrorNotReady) THAW_CUDA_CHECK_CTX(s, std::string(what));
      }
      if (group && group->stopped()) {
        // Another rank failed and stopped the host group: this wait will never be answered.
        failed = true;
        throw RankAborted(-1, cat_str("the run was stopped by another rank's failure while this rank waited for its ",
                                      what));
      }
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::microseconds(1000));
    }
  }
};

NcclComm::NcclComm(const NcclId& id, int rank, int size, int device, std::chrono::milliseconds timeout,
                   const Comm* group)
    : impl_(std::make_unique<Impl>()), rank_(rank), size_(size), device_(device), timeout_(timeout) {
  impl_->group = group;
  impl_->device = device;
  impl_->lib = load_nccl();
  impl_->ctx = std::make_unique<cuda::Context>(device);
  impl_->space = std::make_unique<DeviceSpace>(*impl_->ctx);
  ncclUniqueId uid;
  std::memcpy(&uid, id.data(), sizeof uid);
  ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
  config.blocking = 0;  // every wait is ours, with a deadline
  THAW_CUDA_CHECK(cudaSetDevice(device));
  impl_->lib->check(impl_->lib->CommInitRankConfig(&impl_->comm, size, uid, rank, &config), "ncclCommInitRankConfig",
                    cat_str("rank ", rank, " of ", size, " on GPU ", device));
  if (!impl_->wait(std::chrono::steady_clock::now() + timeout, false, "forming the communicator")) {
    impl_->lib->CommAbort(impl_->comm);
    impl_->comm = nullptr;
    throw RankFailure(-1, cat_str("the NCCL communicator of ", size, " ranks did not form within ",
                                  static_cast<double>(timeout.count()) / 1000.0, " s (rank ", rank, " on GPU ", device,
                                  " was waiting): a rank did not start or cannot reach this one"));
  }
}

NcclComm::~NcclComm() = default;

BufferSpace& NcclComm::space() { return *impl_->space; }

void NcclComm::exchange(std::span<const Transfer> sends, std::span<const Transfer> recvs, std::string_view what) {
  NcclLibrary& lib = *impl_->lib;
  THAW_CUDA_CHECK(cudaSetDevice(device_));
  const cudaStream_t stream = impl_->ctx->stream();
  lib.check(lib.GroupStart(), "ncclGroupStart", what);
  for (const Transfer& t : recvs) {
    THAW_CHECK(t.peer != rank_, "a receive from the rank itself");
    lib.check(lib.Recv(t.data, t.bytes, ncclUint8, t.peer, impl_->comm, stream), "ncclRecv",
              cat_str(what, " from rank ", t.peer));
  }
  for (const Transfer& t : sends) {
    THAW_CHECK(t.peer != rank_, "a send to the rank itself");
    lib.check(lib.Send(t.data, t.bytes, ncclUint8, t.peer, impl_->comm, stream), "ncclSend",
              cat_str(what, " to rank ", t.peer));
  }
  lib.check(lib.GroupEnd(), "ncclGroupEnd", what);
  if (!impl_->wait(std::chrono::steady_clock::now() + timeout_, true, what)) {
    // NCCL cannot say which peer is late: name every one this rank was waiting for.
    std::string peers;
    for (const Transfer& t : recvs) peers += cat_str(peers.empty() ? "" : ", ", t.peer);
    impl_->failed = true;
    lib.CommAbort(impl_->comm);
    impl_->comm = nullptr;
    throw RankFailure(recvs.empty() ? -1 : recvs.front().peer,
                      cat_str("rank ", peers.empty() ? "?" : peers, " did not answer for ",
                              static_cast<double>(timeout_.count()) / 1000.0, " s (rank ", rank_,
                              " was waiting for its ", what, "); the NCCL communicator was aborted"));
  }
}

void NcclComm::abort(const std::string&) {
  if (!impl_->comm) return;
  impl_->failed = true;
  impl_->lib->CommAbort(impl_->comm);
  impl_->comm = nullptr;
}

}  // namespace thaw

#else  // no CUDA in this build

namespace thaw {

bool nccl_available(std::string* why) {
  if (why) *why = "this thaw was built without CUDA";
  return false;
}
std::string nccl_version() { return {}; }
NcclId nccl_unique_id() { fail_user("GPU ranks: this thaw was built without CUDA"); }

struct NcclComm::Impl {};

NcclComm::NcclComm(const NcclId&, int, int, int, std::chrono::milliseconds timeout, const Comm*) : timeout_(timeout) {
  fail_user("GPU ranks: this thaw was built without CUDA");
}
NcclComm::~NcclComm() = default;
BufferSpace& NcclComm::space() { fail_internal("no NCCL in this build"); }
void NcclComm::exchange(std::span<const Transfer>, std::span<const Transfer>, std::string_view) {}
void NcclComm::abort(const std::string&) {}

}  // namespace thaw

#endif
