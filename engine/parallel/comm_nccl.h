#pragma once
// NCCL for GPU ranks, one GPU per rank: in one process with a thread per GPU, or one process per
// GPU (bootstrapped through MPI: rank 0 makes the unique id, MPI broadcasts it). NCCL only moves
// bytes here (grouped ncclSend / ncclRecv); the sums are ours, on the GPU, in the fixed tree of
// engine/parallel/tree_reduce.h. libnccl is opened at run time (libnccl.so.2), so thaw starts, and records
// its libraries, without it until a GPU rank needs it.
//
// Faults: the communicator is non-blocking; every wait polls its stream and NCCL's asynchronous
// error against the timeout, and a peer that does not answer aborts the communicator
// (ncclCommAbort) and throws RankFailure, never a hang.
//
// Without CUDA in the build, nccl_available() says so and the constructor is a UserError.
#include <array>
#include <chrono>
#include <memory>
#include <string>

#include "engine/parallel/comm.h"

namespace thaw {

// Whether a GPU rank could use NCCL here; `why` says what is missing when not.
bool nccl_available(std::string* why = nullptr);
// "2.28.9"; empty when NCCL cannot be loaded.
std::string nccl_version();

using NcclId = std::array<char, 128>;  // the bytes of an ncclUniqueId
// Made by one rank and given to all (a broadcast over MPI, or shared by threads).
NcclId nccl_unique_id();

class NcclComm final : public Comm {
 public:
  // Joins the communicator of `size` ranks as `rank`, on GPU `device`; returns once every rank has
  // joined, or throws RankFailure after `timeout`. `group`, when given, is the ranks' host comm:
  // every wait also ends (RankAborted, the communicator aborted) as soon as it is stopped().
  NcclComm(const NcclId& id, int rank, int size, int device, std::chrono::milliseconds timeout,
           const Comm* group = nullptr);
  ~NcclComm() override;  // ncclCommDestroy, or ncclCommAbort after a failure
  NcclComm(const NcclComm&) = delete;
  NcclComm& operator=(const NcclComm&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string_view kind() const override { return "nccl"; }
  BufferSpace& space() override;  // the GPU's memory; adds by a kernel on the comm's stream
  bool any_thread() const override { return true; }  // one thread at a time; each call sets its GPU
  // Pointers are device pointers on this rank's GPU.
  void exchange(std::span<const Transfer> sends, std::span<const Transfer> recvs, std::string_view what) override;
  void abort(const std::string& why) override;
  int device() const { return device_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int rank_ = 0, size_ = 1, device_ = 0;
  std::chrono::milliseconds timeout_;
};

}  // namespace thaw
