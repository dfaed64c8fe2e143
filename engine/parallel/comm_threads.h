#pragma once
// Ranks as threads of one process: CPU ranks (`thaw train --ranks N`) and the tests of the
// parallel step. A ThreadHub holds a mailbox per ordered pair of ranks. A send posts a pointer to
// the sender's bytes; the receiver copies them straight into its own buffer (one copy, nothing
// allocated), and the sender's exchange returns only once every one of its sends has been taken.
// Every wait ends at the hub's timeout (naming the rank that did not deliver or did not take) or
// as soon as any rank aborts the hub.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/parallel/comm.h"

namespace thaw {

class ThreadHub {
 public:
  ThreadHub(int size, std::chrono::milliseconds timeout);
  int size() const { return size_; }
  std::chrono::milliseconds timeout() const { return timeout_; }

  // One exchange of rank `rank`: posts the sends, takes every receive (each from its peer's
  // mailbox, in posting order), then waits until its own sends have been taken. Throws
  // RankFailure (a peer missed the deadline) or RankAborted (the group was stopped).
  void exchange(int rank, std::span<const Transfer> sends, std::span<const Transfer> recvs, std::string_view what);
  // The first reason wins; every wait, present and future, throws RankAborted with it.
  void abort(int culprit, const std::string& why);
  bool aborted() const;

 private:
  struct Posted {
    const void* data = nullptr;
    size_t bytes = 0;
  };
  std::deque<Posted>& box(int from, int to) { return boxes_[static_cast<size_t>(from * size_ + to)]; }
  void exchange_locked(std::unique_lock<std::mutex>& lock, int rank, std::span<const Transfer> sends,
                       std::span<const Transfer> recvs, std::string_view what);
  [[noreturn]] void time_out(std::unique_lock<std::mutex>& lock, int rank, const std::string& peers, int first,
                             const std::string& doing);

  const int size_;
  const std::chrono::milliseconds timeout_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::deque<Posted>> boxes_;  // [from * size + to]
  std::vector<int64_t> untaken_;           // per rank: its posted sends not yet copied out
  std::optional<std::string> abort_reason_;
  int abort_culprit_ = -1;
};

class ThreadComm final : public Comm {
 public:
  ThreadComm(ThreadHub& hub, int rank) : hub_(hub), rank_(rank) {}
  int rank() const override { return rank_; }
  int size() const override { return hub_.size(); }
  std::string_view kind() const override { return "threads"; }
  BufferSpace& space() override { return space_; }
  void exchange(std::span<const Transfer> sends, std::span<const Transfer> recvs, std::string_view what) override {
    hub_.exchange(rank_, sends, recvs, what);
  }
  void abort(const std::string& why) override { hub_.abort(rank_, why); }
  bool stopped() const override { return hub_.aborted(); }

 private:
  ThreadHub& hub_;
  int rank_;
  HostSpace space_;
};

}  // namespace thaw
