// The fixed tree over virtual shards: the same bits whatever the number of ranks, and really the
// tree's bits (a sequential sum of the same leaves differs); the last leaf folded in pieces and
// reduced bucket by bucket on a comm thread gives the same bits; the comm thread's errors reach
// the caller.
#include "engine/parallel/tree_reduce.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/philox.h"
#include "tests/support/spread_leaves.h"
#include "engine/parallel/grad_buckets.h"
#include "engine/parallel/rank_threads.h"

namespace thaw {
namespace {

std::vector<std::vector<float>> make_leaves(int v, size_t count) { return testing::spread_leaves(11, 0, v, count); }

std::vector<float> reference_tree(const std::vector<std::vector<float>>& leaves) {
  std::vector<std::vector<float>> level = leaves;
  while (level.size() > 1) {
    std::vector<std::vector<float>> up;
    for (size_t i = 0; i < level.size(); i += 2) {
      std::vector<float> s(level[i].size());
      for (size_t k = 0; k < s.size(); ++k) s[k] = level[i][k] + level[i + 1][k];
      up.push_back(std::move(s));
    }
    level = std::move(up);
  }
  return level[0];
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

TEST(TreeReduce, TreeSumOverScalarsPairsNeighboursFirst) {
  // ((1e16 + 1) + (-1e16 + 1)): the ones are lost inside each pair; a left-to-right sum keeps one.
  const std::vector<double> v = {1e16, 1.0, -1e16, 1.0};
  EXPECT_EQ(tree_sum(v), 0.0);
  EXPECT_EQ(((v[0] + v[1]) + v[2]) + v[3], 1.0);
}

TEST(TreeReduce, LeafStackIsTheTree) {
  const size_t count = 257;
  const auto leaves = make_leaves(8, count);
  LeafStack stack(count);
  for (int round = 0; round < 2; ++round) {  // buffers are reused from step to step
    for (const auto& leaf : leaves) {
      std::memcpy(stack.begin_leaf(), leaf.data(), count * sizeof(float));
      stack.end_leaf();
    }
    const float* r = stack.result();
    EXPECT_TRUE(same_bits(std::vector<float>(r, r + count), reference_tree(leaves)));
  }
  std::vector<float> sequential = leaves[0];
  for (int s = 1; s < 8; ++s) {
    for (size_t k = 0; k < count; ++k) sequential[k] += leaves[s][k];
  }
  EXPECT_FALSE(same_bits(sequential, reference_tree(leaves))) << "the leaves do not tell the orders apart";
}

TEST(TreeReduce, SameBitsForOneTwoFourAndEightRanks) {
  const int v = 8;
  const size_t count = 1000;
  const auto leaves = make_leaves(v, count);
  const std::vector<float> want = reference_tree(leaves);
  for (const int n : {1, 2, 4, 8}) {
    for (const size_t bucket : {size_t{64}, size_t{1} << 20}) {  // several buckets, and one
      std::vector<std::vector<float>> results(static_cast<size_t>(n));
      run_thread_ranks(n, std::chrono::seconds(20), [&](Comm& comm) {
        const int r = comm.rank(), k = v / n;
        LeafStack stack(count);
        for (int s = r * k; s < (r + 1) * k; ++s) {
          std::memcpy(stack.begin_leaf(), leaves[static_cast<size_t>(s)].data(), count * sizeof(float));
          stack.end_leaf();
        }
        float* sum = stack.result();
        tree_allreduce(comm, sum, count, bucket, "test gradients");
        results[static_cast<size_t>(r)].assign(sum, sum + count);
      });
      for (int r = 0; r < n; ++r) {
        EXPECT_TRUE(same_bits(results[static_cast<size_t>(r)], want)) << "N=" << n << " rank " << r << " bucket " << bucket;
      }
    }
  }
}

// A comm that must be used from the thread that made it (as MPI below MPI_THREAD_SERIALIZED).
class OneThreadComm final : public Comm {
 public:
  explicit OneThreadComm(Comm& inner) : inner_(inner) {}
  int rank() const override { return inner_.rank(); }
  int size() const override { return inner_.size(); }
  std::string_view kind() const override { return inner_.kind(); }
  BufferSpace& space() override { return inner_.space(); }
  bool any_thread() const override { return false; }
  void exchange(std::span<const Transfer> sends, std::span<const Transfer> recvs, std::string_view what) override {
    EXPECT_EQ(std::this_thread::get_id(), owner_) << what;
    inner_.exchange(sends, recvs, what);
  }
  void abort(const std::string& why) override { inner_.abort(why); }

 private:
  Comm& inner_;
  std::thread::id owner_ = std::this_thread::get_id();
};

// As TrainStep's last shard: the rank's earlier leaves whole, the last one written from the end
// in pieces of uneven sizes, each folded and posted to the comm thread at once (or, for a comm
// bound to its thread, reduced by finish()).
TEST(TreeReduce, TheLastLeafInBucketsOnACommThreadIsTheTree) {
  const int v = 8;
  const size_t count = 1000;
  const auto leaves = make_leaves(v, count);
  const std::vector<float> want = reference_tree(leaves);
  const size_t piece[] = {1, 7, 64, 3, 200, 5};
  for (const int n : {1, 2, 4, 8, -2}) {
    const bool one_thread = n < 0;
    std::vector<std::vector<float>> results(static_cast<size_t>(std::abs(n)));
    std::vector<size_t> posted(results.size());
    run_thread_ranks(std::abs(n), std::chrono::seconds(20), [&](Comm& rank_comm) {
      OneThreadComm bound(rank_comm);
      Comm& comm = one_thread ? static_cast<Comm&>(bound) : rank_comm;
      const int r = comm.rank(), k = v / comm.size();
      LeafStack stack(count);
      for (int s = r * k; s + 1 < (r + 1) * k; ++s) {
        std::memcpy(stack.begin_leaf(), leaves[static_cast<size_t>(s)].data(), count * sizeof(float));
        stack.end_leaf();
      }
      const std::vector<float>& last = leaves[static_cast<size_t>((r + 1) * k - 1)];
      float* leaf = stack.begin_leaf();
      BucketReducer reducer(comm);
      size_t hi = count, b = 0;
      while (hi > 0) {
        const size_t lo = hi - std::min(hi, piece[b % std::size(piece)]);
        std::memcpy(leaf + lo, last.data() + lo, (hi - lo) * sizeof(float));
        float* sum = stack.fold(lo, hi);
        reducer.post(sum + lo, hi - lo, cat_str("test bucket ", ++b));
        hi = lo;
      }
      stack.end_folded_leaf();
      reducer.finish();
      float* sum = stack.result();
      results[static_cast<size_t>(r)].assign(sum, sum + count);
      posted[static_cast<size_t>(r)] = b;
    });
    for (size_t r = 0; r < results.size(); ++r) {
      EXPECT_GT(posted[r], 10u);
      EXPECT_TRUE(same_bits(results[r], want)) << "N=" << n << " rank " << r;
    }
  }
}

TEST(TreeReduce, AnErrorOnTheCommThreadIsRethrownByFinish) {
  try {
    run_thread_ranks(2, std::chrono::milliseconds(300), [&](Comm& comm) {
      if (comm.rank() == 1) return;  // never takes part
      std::vector<float> data(100, 1.0f);
      BucketReducer reducer(comm);
      reducer.post(data.data(), 50, "test gradients (bucket 1 of 2)");
      reducer.post(data.data() + 50, 50, "test gradients (bucket 2 of 2)");
      reducer.finish();
      ADD_FAILURE() << "finish() returned";
    });
    FAIL() << "no error";
  } catch (const RankFailure& e) {
    EXPECT_EQ(e.rank(), 1);
    EXPECT_NE(std::string(e.what()).find(
                  "rank 1 did not answer for 0.3 s (rank 0 was waiting for its test gradients (bucket 1 of 2))"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace thaw
