#include "engine/parallel/comm_threads.h"

#include <cstring>

namespace thaw {

namespace {

std::string seconds_str(std::chrono::milliseconds t) {
  const int64_t ms = t.count();
  return ms % 1000 == 0 ? cat_str(ms / 1000, " s") : cat_str(static_cast<double>(ms) / 1000.0, " s");
}

}  // namespace

ThreadHub::ThreadHub(int size, std::chrono::milliseconds timeout)
    : size_(size),
      timeout_(timeout),
      boxes_(static_cast<size_t>(size) * static_cast<size_t>(size)),
      untaken_(static_cast<size_t>(size), 0) {
  THAW_CHECK(size >= 1, "a group of ", size, " ranks");
}

void ThreadHub::time_out(std::unique_lock<std::mutex>& lock, int rank, const std::string& peers, int first,
                         const std::string& doing) {
  const std::string why =
      cat_str("rank ", peers, " did not answer for ", seconds_str(timeout_), " (rank ", rank, " was ", doing, ")");
  abort_reason_ = why;
  abort_culprit_ = first;
  lock.unlock();
  cv_.notify_all();
  throw RankFailure(first, why);
}

void ThreadHub::exchange(int rank, std::span<const Transfer> sends, std::span<const Transfer> recvs,
                         std::string_view what) {
  std::unique_lock<std::mutex> lock(mu_);
  try {
    exchange_locked(lock, rank, sends, recvs, what);
  } catch (...) {
    // Nobody may copy from this rank's buffers once it leaves: take back what was not taken and
    // wait for the copies already under way.
    if (!lock.owns_lock()) lock.lock();
    for (int q = 0; q < size_; ++q) {
      std::deque<Posted>& b = box(rank, q);
      untaken_[static_cast<size_t>(rank)] -= static_cast<int64_t>(b.size());
      b.clear();
    }
    cv_.wait(lock, [&] { return untaken_[static_cast<size_t>(rank)] == 0; });
    throw;
  }
}

void ThreadHub::exchange_locked(std::unique_lock<std::mutex>& lock, int rank, std::span<const Transfer> sends,
                                std::span<const Transfer> recvs, std::string_view what) {
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  if (abort_reason_) throw RankAborted(abort_culprit_, *abort_reason_);
  for (const Transfer& t : sends) {
    THAW_CHECK(t.peer >= 0 && t.peer < size_ && t.peer != rank, "rank ", rank, " sends to rank ", t.peer);
    box(rank, t.peer).push_back({t.data, t.bytes});
    ++untaken_[static_cast<size_t>(rank)];
  }
  if (!sends.empty()) cv_.notify_all();

  for (size_t k = 0; k < recvs.size(); ++k) {
    const Transfer& t = recvs[k];
    THAW_CHECK(t.peer >= 0 && t.peer < size_ && t.peer != rank, "rank ", rank, " receives from rank ", t.peer);
    std::deque<Posted>& q = box(t.peer, rank);
    const bool ready = cv_.wait_until(lock, deadline, [&] { return abort_reason_.has_value() || !q.empty(); });
    if (abort_reason_) throw RankAborted(abort_culprit_, *abort_reason_);
    if (!ready) {
      // Name every peer this rank is still waiting for, not only the first.
      std::string missing;
      int first = -1;
      for (size_t j = k; j < recvs.size(); ++j) {
        if (!box(recvs[j].peer, rank).empty()) continue;
        missing += cat_str(missing.empty() ? "" : ", ", recvs[j].peer);
        if (first < 0) first = recvs[j].peer;
      }
      time_out(lock, rank, missing, first, cat_str("waiting for its ", what));
    }
    const Posted msg = q.front();
    q.pop_front();
    if (msg.bytes != t.bytes) {
      --untaken_[static_cast<size_t>(t.peer)];
      abort_reason_ = cat_str("rank ", t.peer, " and rank ", rank, " are out of step (", what, ")");
      abort_culprit_ = -1;
      cv_.notify_all();
      fail_internal("rank ", t.peer, " sent ", msg.bytes, " bytes of ", what, " to rank ", rank, ", which expected ",
                    t.bytes, ": the ranks are out of step");
    }
    // The sender waits until this copy is done, so its bytes stay put; copy without the lock.
    lock.unlock();
    if (t.bytes > 0) std::memcpy(t.data, msg.data, t.bytes);
    lock.lock();
    --untaken_[static_cast<size_t>(t.peer)];
    cv_.notify_all();
  }

  int64_t& mine = untaken_[static_cast<size_t>(rank)];
  const bool taken = cv_.wait_until(lock, deadline, [&] { return abort_reason_.has_value() || mine == 0; });
  if (abort_reason_) throw RankAborted(abort_culprit_, *abort_reason_);
  if (!taken) {
    std::string missing;
    int first = -1;
    for (int q = 0; q < size_; ++q) {
      if (q == rank || box(rank, q).empty()) continue;
      missing += cat_str(missing.empty() ? "" : ", ", q);
      if (first < 0) first = q;
    }
    time_out(lock, rank, missing.empty() ? "?" : missing, first, cat_str("waiting for it to take its ", what));
  }
}

void ThreadHub::abort(int culprit, const std::string& why) {
  {
    const std::lock_guard<std::mutex> lock(mu_);
    if (abort_reason_) return;
    abort_reason_ = why;
    abort_culprit_ = culprit;
  }
  cv_.notify_all();
}

bool ThreadHub::aborted() const {
  const std::lock_guard<std::mutex> lock(mu_);
  return abort_reason_.has_value();
}

}  // namespace thaw
