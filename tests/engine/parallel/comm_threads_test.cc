// Thread ranks: the exchanges move the right bytes, and a rank that fails or goes silent stops the
// others quickly with a message naming it.
#include "engine/parallel/comm_threads.h"

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "engine/parallel/rank_threads.h"

namespace thaw {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

TEST(ThreadRanks, AllGatherAndBroadcastMoveTheBytes) {
  const int n = 4;
  std::vector<std::vector<int>> gathered(n);
  std::vector<double> received(n);
  run_thread_ranks(n, std::chrono::seconds(20), [&](Comm& comm) {
    const int r = comm.rank();
    EXPECT_EQ(comm.size(), n);
    EXPECT_EQ(comm.kind(), "threads");
    const int mine[2] = {10 * r, 10 * r + 1};
    std::vector<int> all(2 * n);
    all_gather(comm, mine, all.data(), sizeof mine, "test values");
    gathered[r] = all;
    double v = r == 2 ? 3.25 : -1.0;
    broadcast(comm, &v, sizeof v, 2, "test value");
    received[r] = v;
  });
  for (int r = 0; r < n; ++r) {
    EXPECT_EQ(gathered[r], (std::vector<int>{0, 1, 10, 11, 20, 21, 30, 31})) << "rank " << r;
    EXPECT_EQ(received[r], 3.25) << "rank " << r;
  }
}

TEST(ThreadRanks, ARankThatThrowsStopsTheOthersAndIsNamed) {
  const auto t0 = Clock::now();
  std::atomic<int> aborted{0};
  try {
    run_thread_ranks(4, std::chrono::seconds(60), [&](Comm& comm) {
      char c = 0;
      std::vector<char> all(4);
      try {
        all_gather(comm, &c, all.data(), 1, "step 0");
        if (comm.rank() == 2) throw UserError("cannot read sample 17");
        all_gather(comm, &c, all.data(), 1, "step 1");  // rank 2 never comes
      } catch (const RankAborted&) {
        ++aborted;
        throw;
      }
    });
    FAIL() << "no error";
  } catch (const UserError& e) {  // the failing rank's own kind of error
    EXPECT_EQ(std::string(e.what()), "rank 2: cannot read sample 17");
  }
  EXPECT_EQ(aborted.load(), 3);
  EXPECT_LT(seconds_since(t0), 10.0) << "the others waited out their timeout instead of stopping";
}

TEST(ThreadRanks, ASilentRankIsNamedAfterTheTimeout) {
  const auto t0 = Clock::now();
  try {
    run_thread_ranks(3, std::chrono::milliseconds(300), [&](Comm& comm) {
      if (comm.rank() == 1) {
        std::this_thread::sleep_for(std::chrono::milliseconds(900));  // busy elsewhere, never sends
        return;
      }
      char c = 0;
      std::vector<char> all(3);
      all_gather(comm, &c, all.data(), 1, "gradients at step 4");
    });
    FAIL() << "no error";
  } catch (const RankFailure& e) {
    EXPECT_EQ(e.rank(), 1);
    const std::string what = e.what();
    EXPECT_NE(what.find("rank 1 did not answer for 0.3 s"), std::string::npos) << what;
    EXPECT_NE(what.find("gradients at step 4"), std::string::npos) << what;
  }
  EXPECT_LT(seconds_since(t0), 10.0);
}

TEST(ThreadRanks, MismatchedSizesAreAnInternalError) {
  EXPECT_THROW(run_thread_ranks(2, std::chrono::seconds(20),
                                [&](Comm& comm) {
                                  char buf[8] = {};
                                  if (comm.rank() == 0) {
                                    const Transfer t{1, buf, 4};
                                    comm.exchange({&t, 1}, {}, "a");
                                  } else {
                                    const Transfer t{0, buf, 8};
                                    comm.exchange({}, {&t, 1}, "a");
                                  }
                                }),
               InternalError);
}

}  // namespace
}  // namespace thaw
