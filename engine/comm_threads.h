#pragma once
// Ranks as threads of one process: CPU ranks (`thaw train --ranks N`) and the tests of the
// parallel step. A ThreadHub holds a mailbox per pair of ranks; a send copies the bytes into the
// receiver's mailbox and returns, a receive waits for them. Waits end at the hub's timeout
// (naming the rank that did not deliver) or when any rank aborts the hub.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/comm.h"

namespace thaw {

class ThreadHub {
 public:
  ThreadHub(int size, std::chrono::milliseconds timeout);
  int size() const { return size_; }
  std::chrono::milliseconds timeout() const { return timeout_; }

  void post(int from, int to, const void* data, size_t bytes);
  // Waits until every receive of rank `to` is delivered (each from its own peer's mailbox, in
  // posting order) or the deadline passes; throws RankFailure / RankAborted.
  void take_all(int to, std::span<const Transfer> recvs, std::string_view what);
  // The first reason wins; every wait, present and future, throws RankAborted with it.
  void abort(int culprit, const std::string& why);
  bool aborted() const;

 private:
  std::deque<std::vector<char>>& box(int from, int to) { return boxes_[static_cast<size_t>(from * size_ + to)]; }

  const int size_;
  const std::chrono::milliseconds timeout_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::deque<std::vector<char>>> boxes_;  // [from * size + to]
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
  void exchange(std::span<const Transfer> sends, std::span<const Transfer> recvs, std::string_view what) override;
  void abort(const std::string& why) override { hub_.abort(rank_, why); }

 private:
  ThreadHub& hub_;
  int rank_;
  HostSpace space_;
};

}  // namespace thaw
