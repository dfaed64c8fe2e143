#pragma once
// Shared pieces of the CUDA parity tests: a fixture that skips (with device_count's reason) where
// there is no GPU and otherwise owns a Context, reproducible random inputs, host<->device copies,
// and an every-element comparison against the CPU twin that always prints how close it came.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kernels/cuda/context.h"
#include "kernels/cuda/device_buffer.h"
#include "kernels/cuda/layout.h"
#include "tests/cuda/tolerance.h"

namespace thaw::cuda_test {

class CudaTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

 public:
  // Public so that check helpers shared by several TEST_Fs can take the fixture.
  cuda::Context& ctx() { return *ctx_; }
  cudaStream_t stream() { return ctx_->stream(); }

  template <typename T>
  cuda::DeviceBuffer<T> to_device(const std::vector<T>& host) {
    cuda::DeviceBuffer<T> d(host.size());
    d.upload(host, stream());
    return d;
  }
  template <typename T>
  std::vector<T> to_host(const cuda::DeviceBuffer<T>& d) {
    ctx_->synchronize("test download");
    return d.download(stream());
  }

 private:
  std::unique_ptr<cuda::Context> ctx_;
};

// Uniform in [lo, hi), a pure function of (stream, index); the seed is fixed and printed on failure
// through the stream number in the test's own messages.
std::vector<float> random_floats(int64_t count, uint32_t stream, float lo = -1.0f, float hi = 1.0f);
std::vector<uint8_t> random_mask(int64_t count, uint32_t stream, double keep_probability);
double max_abs(const std::vector<float>& v);
// [n, c, hw] -> [n, hw, c] on the host (what a channels-last kernel should hold), and back.
template <typename T>
std::vector<T> to_nhwc(const std::vector<T>& x, int64_t n, int64_t c, int64_t hw) {
  return cuda::swap_inner_axes(x, n, c, hw);
}
template <typename T>
std::vector<T> to_nchw(const std::vector<T>& x, int64_t n, int64_t c, int64_t hw) {
  return cuda::swap_inner_axes(x, n, hw, c);
}

// Every element within `tol` of `want`; NaN never passes. On failure lists the first few bad
// elements with their indices. Always prints one summary line (max error, worst error/allowance,
// how many elements are bit-identical) for the device logs.
::testing::AssertionResult all_close(const std::string& what, const std::vector<float>& got,
                                     const std::vector<float>& want, const Tolerance& tol);
::testing::AssertionResult all_equal(const std::string& what, const std::vector<int32_t>& got,
                                     const std::vector<int32_t>& want);
// memcmp-identical, for determinism tests.
::testing::AssertionResult same_bits(const std::string& what, const std::vector<float>& a,
                                     const std::vector<float>& b);

}  // namespace thaw::cuda_test
