#include "kernels/cuda/concat.h"

#include <gtest/gtest.h>

#include "kernels/cpu/concat.h"
#include "tests/cuda/cuda_test_util.h"

namespace thaw::cuda_test {
namespace {

using ConcatTest = CudaTest;

// Branch channel counts of one block and its spatial size, batch 2.
void check(ConcatTest& t, const std::vector<int64_t>& channels, int64_t hw, const std::string& name) {
  const int64_t n = 2;
  int64_t c_total = 0;
  for (int64_t c : channels) c_total += c;
  std::vector<std::vector<float>> xs, dx0s;
  for (size_t i = 0; i < channels.size(); ++i) {
    xs.push_back(random_floats(n * channels[i] * hw, 10 + static_cast<uint32_t>(i)));
    dx0s.push_back(random_floats(n * channels[i] * hw, 20 + static_cast<uint32_t>(i)));
  }
  const auto dy = random_floats(n * c_total * hw, 30);

  std::vector<cpu::ChannelSlice<const float>> cpu_in;
  for (size_t i = 0; i < channels.size(); ++i) cpu_in.push_back({xs[i].data(), channels[i]});
  std::vector<float> want_y(n * c_total * hw);
  cpu::concat_forward(n, hw, cpu_in, want_y.data());
  // The second branch's gradient is not wanted (null), as for a frozen producer.
  auto want_dx = dx0s;
  std::vector<cpu::ChannelSlice<float>> cpu_d;
  for (size_t i = 0; i < channels.size(); ++i) cpu_d.push_back({i == 1 ? nullptr : want_dx[i].data(), channels[i]});
  cpu::concat_backward(n, hw, dy.data(), cpu_d);

  std::vector<cuda::DeviceBuffer<float>> d_x, d_dx;
  std::vector<cuda::ChannelSlice<const float>> gpu_in;
  std::vector<cuda::ChannelSlice<float>> gpu_d;
  for (size_t i = 0; i < channels.size(); ++i) {
    d_x.push_back(t.to_device(xs[i]));
    d_dx.push_back(t.to_device(dx0s[i]));
  }
  for (size_t i = 0; i < channels.size(); ++i) {
    gpu_in.push_back({d_x[i].data(), channels[i]});
    gpu_d.push_back({i == 1 ? nullptr : d_dx[i].data(), channels[i]});
  }
  cuda::DeviceBuffer<float> d_y(want_y.size());
  d_y.fill_bytes(0xFF, t.stream());
  auto d_dy = t.to_device(dy);
  cuda::concat_forward(t.ctx(), n, hw, gpu_in, d_y.data());
  cuda::concat_backward(t.ctx(), n, hw, d_dy.data(), gpu_d);
  EXPECT_TRUE(all_close(name + " concat forward", t.to_host(d_y), want_y, exact()));
  for (size_t i = 0; i < channels.size(); ++i) {
    EXPECT_TRUE(all_close(name + " concat backward input " + std::to_string(i), t.to_host(d_dx[i]), want_dx[i],
                          exact()));
  }
}

TEST_F(ConcatTest, InceptionAOutput) { check(*this, {96, 96, 96, 96}, 35 * 35, "inception_a"); }
TEST_F(ConcatTest, InceptionCOutput) { check(*this, {256, 256, 256, 256, 256, 256}, 8 * 8, "inception_c"); }
TEST_F(ConcatTest, ReductionAOutput) { check(*this, {384, 256, 384}, 17 * 17, "reduction_a"); }

}  // namespace
}  // namespace thaw::cuda_test
