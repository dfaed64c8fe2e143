// The host-staged comm (engine/parallel/comm_staged.h), the logic of two GPU ranks on one GPU, on
// the CPU: its "device" is host memory whose copies are made only when the comm waits, as an
// asynchronous device would make them, so that a copy used before its wait shows up as wrong
// bytes. Through it the tree reduction and the gather give exactly the bits of the comm it wraps,
// and a failing rank stops the others with its error.
#include "engine/parallel/comm_staged.h"

#include <chrono>
#include <cmath>
#include <cstring>
#include <functional>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/philox.h"
#include "tests/support/spread_leaves.h"
#include "engine/parallel/rank_threads.h"
#include "engine/parallel/tree_reduce.h"

namespace thaw {
namespace {

// Copies queued, made at wait(); the host area is poisoned each time it is handed out.
class DeferredStaging final : public Staging {
 public:
  void* host(size_t bytes) override {
    EXPECT_TRUE(queued_.empty()) << "the host area handed out again while copies are queued on it";
    area_.assign(bytes, static_cast<char>(0x5a));
    return area_.data();
  }
  void to_host(void* host, const void* device, size_t bytes) override { queue(host, device, bytes); }
  void to_device(void* device, const void* host, size_t bytes) override { queue(device, host, bytes); }
  void wait(std::string_view) override {
    for (const auto& copy : queued_) copy();
    queued_.clear();
    ++waits_;
  }
  int waits() const { return waits_; }

 private:
  void queue(void* dst, const void* src, size_t bytes) {
    queued_.push_back([dst, src, bytes] { std::memcpy(dst, src, bytes); });
  }
  std::vector<char> area_;
  std::vector<std::function<void()>> queued_;
  int waits_ = 0;
};

std::vector<std::vector<float>> make_leaves(int v, size_t count) { return testing::spread_leaves(17, 2, v, count); }


// Each of n ranks sums its V/n leaves, then reduces across ranks; staged or directly over threads.
std::vector<std::vector<float>> reduce_on_ranks(int n, const std::vector<std::vector<float>>& leaves, bool staged) {
  const int v = static_cast<int>(leaves.size());
  const size_t count = leaves[0].size();
  std::vector<std::vector<float>> got(static_cast<size_t>(n));
  run_thread_ranks(n, std::chrono::seconds(30), [&](Comm& threads) {
    const int r = threads.rank();
    std::vector<std::vector<float>> mine(leaves.begin() + r * (v / n), leaves.begin() + (r + 1) * (v / n));
    std::vector<float> sum = testing::host_tree_sum(mine);
    HostSpace device;
    DeferredStaging staging;
    StagedComm comm(threads, device, staging);
    Comm& c = staged ? static_cast<Comm&>(comm) : threads;
    tree_allreduce(c, sum.data(), count, 1000, "test gradients");
    if (staged) EXPECT_GT(staging.waits(), 0);
    got[static_cast<size_t>(r)] = std::move(sum);
  });
  return got;
}

TEST(StagedComm, TreeReductionGivesTheBitsOfTheCommItWraps) {
  const size_t count = 4099;  // several buckets, uneven chunks
  const auto leaves = make_leaves(8, count);
  const std::vector<float> want = testing::host_tree_sum(leaves);
  for (int n : {2, 4}) {
    const auto direct = reduce_on_ranks(n, leaves, false);
    const auto staged = reduce_on_ranks(n, leaves, true);
    for (int r = 0; r < n; ++r) {
      ASSERT_EQ(std::memcmp(staged[r].data(), want.data(), count * sizeof(float)), 0) << n << " ranks, rank " << r;
      ASSERT_EQ(std::memcmp(direct[r].data(), want.data(), count * sizeof(float)), 0) << n << " ranks, rank " << r;
    }
  }
}

TEST(StagedComm, GatherPutsEveryRanksRecordInRankOrder) {
  const int n = 4;
  const size_t bytes = 24;
  std::vector<std::vector<char>> got(n);
  run_thread_ranks(n, std::chrono::seconds(30), [&](Comm& threads) {
    const int r = threads.rank();
    HostSpace device;
    DeferredStaging staging;
    StagedComm comm(threads, device, staging);
    EXPECT_EQ(comm.rank(), r);
    EXPECT_EQ(comm.size(), n);
    EXPECT_EQ(comm.kind(), "staged");
    std::vector<char> all(bytes * n, 0);
    for (size_t i = 0; i < bytes; ++i) all[r * bytes + i] = static_cast<char>(r * 31 + i);
    all_gather(comm, all.data() + r * bytes, all.data(), bytes, "records");
    got[r] = all;
  });
  for (int r = 0; r < n; ++r) {
    for (int q = 0; q < n; ++q) {
      for (size_t i = 0; i < bytes; ++i) ASSERT_EQ(got[r][q * bytes + i], static_cast<char>(q * 31 + i));
    }
  }
}

TEST(StagedComm, AFailingRankStopsTheOthersWithItsError) {
  const auto start = std::chrono::steady_clock::now();
  try {
    run_thread_ranks(2, std::chrono::seconds(30), [&](Comm& threads) {
      if (threads.rank() == 1) fail_user("GPU 1 is out of memory");
      HostSpace device;
      DeferredStaging staging;
      StagedComm comm(threads, device, staging);
      std::vector<float> g(100, 1.0f);
      tree_allreduce(comm, g.data(), g.size(), 50, "gradients at step 0");
    });
    FAIL() << "no error";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("rank 1: GPU 1 is out of memory"), std::string::npos) << e.what();
  }
  // Aborted at once, not after the 30 s timeout.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

}  // namespace
}  // namespace thaw
