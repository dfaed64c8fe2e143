#include "engine/parallel/rank_threads.h"

#include <omp.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/parallel/comm_threads.h"

namespace thaw {

namespace {

std::string what_of(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  } catch (...) {
    return "an unknown exception";
  }
}

// The root error, rethrown as the caller should see it.
[[noreturn]] void rethrow_as_rank_error(int rank, const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const RankFailure&) {
    throw;  // already names the rank at fault
  } catch (const UserError& x) {
    throw UserError(cat_str("rank ", rank, ": ", x.what()));
  } catch (const std::exception& x) {
    throw InternalError(cat_str("rank ", rank, ": ", x.what()));
  } catch (...) {
    throw InternalError(cat_str("rank ", rank, ": an unknown exception"));
  }
}

}  // namespace

void run_thread_ranks(int ranks, std::chrono::milliseconds timeout, const std::function<void(Comm&)>& body) {
  THAW_CHECK(ranks >= 1, "run_thread_ranks with ", ranks, " ranks");
  ThreadHub hub(ranks, timeout);
  // The cores are shared: each rank's kernels get their part (the bits never depend on it).
  const int omp_per_rank = std::max(1, omp_get_max_threads() / ranks);

  std::mutex mu;
  std::condition_variable cv;
  int finished = 0;
  int root = -1;  // the first rank whose own error stopped the group
  std::vector<std::exception_ptr> errors(static_cast<size_t>(ranks));
  std::vector<char> done(static_cast<size_t>(ranks), 0);
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(ranks));
  for (int r = 0; r < ranks; ++r) {
    threads.emplace_back([&, r] {
      omp_set_num_threads(omp_per_rank);
      ThreadComm comm(hub, r);
      std::exception_ptr error;
      bool own = false;
      try {
        body(comm);
      } catch (const RankAborted&) {
        error = std::current_exception();
      } catch (...) {
        error = std::current_exception();
        own = true;
      }
      if (own) hub.abort(r, cat_str("rank ", r, " failed: ", what_of(error)));
      {
        const std::lock_guard<std::mutex> lock(mu);
        errors[static_cast<size_t>(r)] = error;
        if (own && root < 0) root = r;
        done[static_cast<size_t>(r)] = 1;
        ++finished;
      }
      cv.notify_all();
    });
  }

  {
    std::unique_lock<std::mutex> lock(mu);
    // Poll for an abort, then allow the others one timeout to reach a wait and stop.
    while (finished < ranks && !hub.aborted()) cv.wait_for(lock, std::chrono::milliseconds(100));
    if (finished < ranks && !cv.wait_for(lock, timeout + std::chrono::seconds(5), [&] { return finished == ranks; })) {
      std::string stuck;
      for (int r = 0; r < ranks; ++r) {
        if (!done[static_cast<size_t>(r)]) stuck += cat_str(stuck.empty() ? "" : ", ", r);
      }
      std::fprintf(stderr, "thaw: error: rank %s did not stop after the group was aborted%s%s; exiting\n",
                   stuck.c_str(), root >= 0 ? ": " : "",
                   root >= 0 ? what_of(errors[static_cast<size_t>(root)]).c_str() : "");
      std::fflush(stderr);
      std::_Exit(1);
    }
  }
  for (std::thread& t : threads) t.join();
  if (root >= 0) rethrow_as_rank_error(root, errors[static_cast<size_t>(root)]);
  for (int r = 0; r < ranks; ++r) {
    // Only aborted ranks failed (an abort from outside the bodies): report the first.
    if (errors[static_cast<size_t>(r)]) std::rethrow_exception(errors[static_cast<size_t>(r)]);
  }
}

}  // namespace thaw
