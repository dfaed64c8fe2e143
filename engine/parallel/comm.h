#pragma once
// How ranks talk. A rank is one replica of the training step (a thread, a process or a GPU); a
// Comm connects the ranks of one run. It moves bytes only: every sum over ranks is ours, made in
// a fixed order (engine/parallel/tree_reduce.h), never a library reduction whose order is unspecified.
//
// Implementations: SelfComm (one rank), ThreadComm (ranks as threads of one process,
// engine/parallel/comm_threads.h), MpiComm (one process per rank, engine/parallel/comm_mpi.h), NcclComm (one GPU
// per rank, device memory, engine/parallel/comm_nccl.h), StagedComm (device memory moved through a
// host comm, engine/parallel/comm_staged.h).
#include <chrono>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace thaw {

// A rank stopped (it failed, or it did not answer within the timeout) and the run cannot go on.
// The message names the rank. Exit code 1, like any fault that is not the user's.
class RankFailure : public InternalError {
 public:
  RankFailure(int rank, const std::string& what) : InternalError(what), rank_(rank) {}
  int rank() const { return rank_; }  // the rank at fault, -1 when not known

 private:
  int rank_;
};

// Thrown in the ranks that were waiting when another rank's failure stopped the group: the
// message repeats that failure; the launcher reports the original instead.
class RankAborted : public RankFailure {
 public:
  using RankFailure::RankFailure;
};

// One message of an exchange: `bytes` bytes to or from rank `peer` (never the rank itself).
struct Transfer {
  int peer = 0;
  void* data = nullptr;  // read for a send, written for a receive
  size_t bytes = 0;
};

// Where a comm's buffers live (host memory, or a GPU's) and the arithmetic the reduction needs
// there: single-precision adds, one IEEE rounding each, element by element.
class BufferSpace {
 public:
  virtual ~BufferSpace() = default;
  // A scratch area of `count` floats, valid until the next call.
  virtual float* scratch(size_t count) = 0;
  virtual void add(float* dst, const float* src, size_t count) = 0;  // dst[i] += src[i]
  virtual void copy(void* dst, const void* src, size_t bytes) = 0;
};

class HostSpace final : public BufferSpace {
 public:
  float* scratch(size_t count) override;
  void add(float* dst, const float* src, size_t count) override;
  void copy(void* dst, const void* src, size_t bytes) override;

 private:
  std::vector<float> scratch_;
};

class Comm {
 public:
  virtual ~Comm() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string_view kind() const = 0;  // "self", "threads", "mpi", "nccl"
  virtual BufferSpace& space() = 0;
  // Whether exchange may be called from a thread other than the one that made the comm (one
  // thread at a time): the gradient buckets are then reduced on a thread of their own
  // (engine/parallel/grad_buckets.h) while backward goes on.
  virtual bool any_thread() const { return true; }

  // Posts every send and receive, then waits until all have completed. The ranks run the same
  // program, so they call exchanges in the same order; the messages between two ranks match in
  // the order they were posted, and a receive must expect exactly the bytes that were sent.
  // A peer that has not delivered within the comm's timeout, or a group stopped by another
  // rank's failure, throws RankFailure naming the rank; `what` says what was being exchanged.
  virtual void exchange(std::span<const Transfer> sends, std::span<const Transfer> recvs, std::string_view what) = 0;

  // Stops the group: waits in every rank end with RankAborted carrying `why` (where the transport
  // can reach them; MPI ends the job).
  virtual void abort(const std::string& why) = 0;
  // Whether another rank stopped the group: a comm that waits on a transport of its own (NCCL)
  // polls its host comm's, so that a failure seen there ends its waits too.
  virtual bool stopped() const { return false; }
};

// One rank, nothing to exchange.
class SelfComm final : public Comm {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string_view kind() const override { return "self"; }
  BufferSpace& space() override { return space_; }
  void exchange(std::span<const Transfer> sends, std::span<const Transfer> recvs, std::string_view what) override;
  void abort(const std::string&) override {}

 private:
  HostSpace space_;
};

// Every rank contributes `bytes` bytes; `all` receives size() * bytes, rank order. `mine` may be
// all + rank * bytes.
void all_gather(Comm& comm, const void* mine, void* all, size_t bytes, std::string_view what);
// Rank `root`'s bytes into every rank's `data`.
void broadcast(Comm& comm, void* data, size_t bytes, int root, std::string_view what);

// The default time a rank waits for another before it declares it gone.
inline constexpr std::chrono::seconds kDefaultRankTimeout{60};

}  // namespace thaw
