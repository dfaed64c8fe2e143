// GPU ranks through NCCL: one rank per GPU (threads of this process). The fixed-tree reduction
// over device memory gives the CPU tree's bits. With one GPU this is the one-GPU-rank check
// (communicator, tree sums on the device, teardown); with more it also moves the chunks between
// GPUs. Skips, saying why, without a GPU or without libnccl.
#include <cmath>
#include <cstring>
#include <mutex>
#include <vector>

#include <gtest/gtest.h>

#include "core/philox.h"
#include "tests/support/spread_leaves.h"
#include "engine/parallel/comm_nccl.h"
#include "engine/parallel/rank_threads.h"
#include "engine/parallel/tree_reduce.h"
#include "kernels/cuda/device_buffer.h"
#include "kernels/cuda/device_query.h"

namespace thaw {
namespace {

std::vector<std::vector<float>> make_leaves(int v, size_t count) { return testing::spread_leaves(13, 1, v, count); }


// The largest power of two of GPUs, at most 8.
int gpu_ranks(std::string* why) {
  const int n = cuda::device_count(why);
  if (n == 0) return 0;
  if (!nccl_available(why)) return 0;
  int p = 1;
  while (p * 2 <= n && p * 2 <= 8) p *= 2;
  return p;
}

TEST(NcclComm, TreeReductionOnGpuRanksGivesTheCpuBits) {
  std::string why;
  const int n = gpu_ranks(&why);
  if (n == 0) GTEST_SKIP() << "no GPU rank possible: " << why;
  std::printf("[nccl] %d GPU rank(s), NCCL %s\n", n, nccl_version().c_str());
  const int v = 8;
  const size_t count = (size_t{1} << 20) + 3;  // several buckets below, uneven chunks
  const auto leaves = make_leaves(v, count);
  const std::vector<float> want = testing::host_tree_sum(leaves);
  const NcclId id = nccl_unique_id();
  std::vector<std::vector<float>> got(static_cast<size_t>(n));
  run_thread_ranks(n, std::chrono::seconds(60), [&](Comm& threads) {
    const int r = threads.rank();
    NcclComm comm(id, r, n, r, std::chrono::seconds(60));
    ASSERT_EQ(comm.size(), n);
    cuda::DeviceBuffer<float> dev(count * static_cast<size_t>(v / n));
    // This rank's leaves, summed on its GPU in tree order.
    std::vector<float*> parts;
    for (int k = 0; k < v / n; ++k) {
      const auto& leaf = leaves[static_cast<size_t>(r * (v / n) + k)];
      cudaMemcpy(dev.data() + k * count, leaf.data(), count * sizeof(float), cudaMemcpyHostToDevice);
      parts.push_back(dev.data() + k * count);
    }
    tree_sum_inplace(comm.space(), parts, count);
    tree_allreduce(comm, dev.data(), count, size_t{1} << 18, "test gradients");
    std::vector<float> host(count);
    cudaDeviceSynchronize();
    cudaMemcpy(host.data(), dev.data(), count * sizeof(float), cudaMemcpyDeviceToHost);
    got[static_cast<size_t>(r)] = std::move(host);
  });
  for (int r = 0; r < n; ++r) {
    ASSERT_EQ(got[static_cast<size_t>(r)].size(), want.size());
    EXPECT_EQ(std::memcmp(got[static_cast<size_t>(r)].data(), want.data(), want.size() * sizeof(float)), 0)
        << "GPU rank " << r << " of " << n;
  }
}

TEST(NcclComm, AllGatherOnGpuRanks) {
  std::string why;
  const int n = gpu_ranks(&why);
  if (n == 0) GTEST_SKIP() << "no GPU rank possible: " << why;
  const NcclId id = nccl_unique_id();
  std::vector<std::vector<int>> got(static_cast<size_t>(n));
  run_thread_ranks(n, std::chrono::seconds(60), [&](Comm& threads) {
    const int r = threads.rank();
    NcclComm comm(id, r, n, r, std::chrono::seconds(60));
    cuda::DeviceBuffer<int> mine(2), all(2 * static_cast<size_t>(n));
    const int values[2] = {100 + r, -r};
    cudaMemcpy(mine.data(), values, sizeof values, cudaMemcpyHostToDevice);
    all_gather(comm, mine.data(), all.data(), sizeof values, "test values");
    cudaDeviceSynchronize();
    std::vector<int> host(2 * static_cast<size_t>(n));
    cudaMemcpy(host.data(), all.data(), host.size() * sizeof(int), cudaMemcpyDeviceToHost);
    got[static_cast<size_t>(r)] = host;
  });
  std::vector<int> want;
  for (int q = 0; q < n; ++q) want.insert(want.end(), {100 + q, -q});
  for (int r = 0; r < n; ++r) EXPECT_EQ(got[static_cast<size_t>(r)], want) << "GPU rank " << r;
}

}  // namespace
}  // namespace thaw
