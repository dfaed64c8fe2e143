#include "engine/comm_threads.h"

#include <cstring>

namespace thaw {

namespace {

std::string seconds_str(std::chrono::milliseconds t) {
  const int64_t ms = t.count();
  return ms % 1000 == 0 ? cat_str(ms / 1000, " s") : cat_str(static_cast<double>(ms) / 1000.0, " s");
}

}  // namespace

ThreadHub::ThreadHub(int size, std::chrono::milliseconds timeout)
    : size_(size), timeout_(timeout), boxes_(static_cast<size_t>(size) * static_cast<size_t>(size)) {
  THAW_CHECK(size >= 1, "a group of ", size, " ranks");
}

void ThreadHub::post(int from, int to, const void* data, size_t bytes) {
  THAW_CHECK(to >= 0 && to < size_ && to != from, "rank ", from, " sends to rank ", to, " of ", size_);
  std::vector<char> msg(bytes);
  if (bytes > 0) std::memcpy(msg.data(), data, bytes);
  {
    const std::lock_guard<std::mutex> lock(mu_);
    box(from, to).push_back(std::move(msg));
  }
  cv_.notify_all();
}

void ThreadHub::take_all(int to, std::span<const Transfer> recvs, std::string_view what) {
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  std::unique_lock<std::mutex> lock(mu_);
  for (size_t k = 0; k < recvs.size(); ++k) {
    const Transfer& t = recvs[k];
    THAW_CHECK(t.peer >= 0 && t.peer < size_ && t.peer != to, "rank ", to, " receives from rank ", t.peer);
    std::deque<std::vector<char>>& q = box(t.peer, to);
    const bool ready =
        cv_.wait_until(lock, deadline, [&] { return abort_reason_.has_value() || !q.empty(); });
    if (abort_reason_) throw RankAborted(abort_culprit_, *abort_reason_);
    if (!ready) {
      // Name every peer this rank is still waiting for, not only the first.
      std::string missing;
      int first = -1;
      for (size_t j = k; j < recvs.size(); ++j) {
        if (!box(recvs[j].peer, to).empty()) continue;
        missing += cat_str(missing.empty() ? "" : ", ", recvs[j].peer);
        if (first < 0) first = recvs[j].peer;
      }
      const std::string why = cat_str("rank ", missing, " did not answer for ", seconds_str(timeout_), " (rank ", to,
                                       " was waiting for its ", what, ")");
      abort_reason_ = why;
      abort_culprit_ = first;
      lock.unlock();
      cv_.notify_all();
      throw RankFailure(first, why);
    }
    std::vector<char> msg = std::move(q.front());
    q.pop_front();
    if (msg.size() != t.bytes) {
      fail_internal("rank ", t.peer, " sent ", msg.size(), " bytes of ", what, " to rank ", to, ", which expected ",
                    t.bytes, ": the ranks are out of step");
    }
    if (t.bytes > 0) std::memcpy(t.data, msg.data(), t.bytes);
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

void ThreadComm::exchange(std::span<const Transfer> sends, std::span<const Transfer> recvs, std::string_view what) {
  for (const Transfer& t : sends) hub_.post(rank_, t.peer, t.data, t.bytes);
  hub_.take_all(rank_, recvs, what);
}

}  // namespace thaw
