// The loader on page-locked memory: the same batches, bit for bit, as on plain memory, and the
// memory is really pinned (cudaPointerGetAttributes says host-registered).
#include <gtest/gtest.h>

#include <cuda_runtime_api.h>

#include "engine/data/loader.h"
#include "kernels/cuda/device_query.h"
#include "kernels/cuda/pinned_host.h"

namespace thaw {
namespace {

class Ramp final : public Dataset {
 public:
  int64_t size() const override { return 10; }
  int64_t num_classes() const override { return 2; }
  std::vector<std::string> class_names() const override { return {"a", "b"}; }
  int32_t label(int64_t i) const override { return static_cast<int32_t>(i % 2); }
  void load(int64_t i, int64_t size, LoadMode mode, float* chw) const override {
    for (int64_t k = 0; k < 3 * size * size; ++k) chw[k] = static_cast<float>(i * 1000 + k + mode.epoch);
  }
  std::string describe() const override { return "ramp"; }
};

TEST(PinnedHost, LoaderBatchesMatchPlainMemory) {
  std::string why;
  if (cuda::device_count(&why) == 0) GTEST_SKIP() << why;
  cuda::PinnedHostAllocator pinned;
  const Ramp data;
  const std::vector<std::vector<int64_t>> batches = {{3, 1, 4}, {0, 9, 2}, {6, 5, 8}};
  LoaderOptions plain_opt, pinned_opt;
  plain_opt.workers = pinned_opt.workers = 2;
  pinned_opt.allocator = &pinned;
  BatchLoader a(data, batches, 4, LoadMode::training(2), plain_opt);
  BatchLoader b(data, batches, 4, LoadMode::training(2), pinned_opt);
  int n = 0;
  while (const LoadedBatch* x = a.next()) {
    const LoadedBatch* y = b.next();
    ASSERT_NE(y, nullptr);
    EXPECT_EQ(std::vector<float>(x->x, x->x + 3 * 48), std::vector<float>(y->x, y->x + 3 * 48));
    cudaPointerAttributes attr{};
    ASSERT_EQ(cudaPointerGetAttributes(&attr, y->x), cudaSuccess);
    EXPECT_EQ(attr.type, cudaMemoryTypeHost);
    ++n;
  }
  EXPECT_EQ(n, 3);
}

}  // namespace
}  // namespace thaw
