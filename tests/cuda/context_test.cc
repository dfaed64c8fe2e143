#include "kernels/cuda/context.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "kernels/cuda/device_buffer.h"
#include "kernels/cuda/versions.h"
#include "tests/cuda/cuda_test_util.h"

namespace thaw::cuda_test {
namespace {

using ContextTest = CudaTest;

TEST_F(ContextTest, ReportsTheDevice) {
  const cuda::DeviceInfo& info = ctx().info();
  std::printf("[device] %s; %s\n", info.describe().c_str(), cuda::library_versions().describe().c_str());
  ::testing::Test::RecordProperty("device", info.describe());
  EXPECT_FALSE(info.name.empty());
  EXPECT_GE(info.cc_major, 7);
  EXPECT_GT(info.sm_count, 0);
  EXPECT_NE(ctx().stream(), nullptr);
  EXPECT_NE(ctx().cudnn(), nullptr);
  EXPECT_NE(ctx().cublaslt(), nullptr);
}

TEST_F(ContextTest, DeviceBufferRoundTripsAndMoves) {
  const std::vector<float> host = random_floats(1000, 1);
  cuda::DeviceBuffer<float> a = to_device(host);
  cuda::DeviceBuffer<float> b = std::move(a);
  EXPECT_EQ(a.data(), nullptr);
  EXPECT_EQ(b.size(), host.size());
  EXPECT_TRUE(same_bits("device buffer round trip", to_host(b), host));
  b.fill_bytes(0, stream());
  EXPECT_TRUE(same_bits("device buffer zeroed", to_host(b), std::vector<float>(host.size(), 0.0f)));
}

TEST_F(ContextTest, UploadLargerThanTheBufferIsRefused) {
  cuda::DeviceBuffer<float> d(4);
  const std::vector<float> host(5, 1.0f);
  EXPECT_THROW(d.upload(host, stream()), InternalError);
}

TEST_F(ContextTest, WorkspaceGrowsAndKeepsItsSizeClass) {
  void* small = ctx().workspace(1000);
  ASSERT_NE(small, nullptr);
  EXPECT_EQ(ctx().workspace(10), small);  // no reallocation for a smaller request
  void* big = ctx().workspace(size_t{64} << 20);
  ASSERT_NE(big, nullptr);
  // The grown area is usable end to end.
  EXPECT_EQ(cudaMemsetAsync(big, 0, size_t{64} << 20, stream()), cudaSuccess);
  ctx().synchronize("workspace memset");
  EXPECT_NE(ctx().scratch(0), nullptr);  // never null, even for zero bytes
}

}  // namespace
}  // namespace thaw::cuda_test
