#include "kernels/cuda/loss.h"

#include <gtest/gtest.h>

#include <cmath>

#include "kernels/cpu/loss.h"
#include "tests/cuda/cuda_test_util.h"

namespace thaw::cuda_test {
namespace {

using LossTest = CudaTest;

std::vector<int32_t> random_labels(int64_t n, int64_t k, uint32_t stream) {
  const auto u = random_floats(n, stream, 0.0f, 1.0f);
  std::vector<int32_t> labels(n);
  for (int64_t i = 0; i < n; ++i) labels[i] = std::min<int32_t>(static_cast<int32_t>(u[i] * k), k - 1);
  return labels;
}

void check(LossTest& t, int64_t n, int64_t k, double smoothing, bool weighted, const std::string& name) {
  const auto logits = random_floats(n * k, 1, -4.0f, 4.0f);
  const auto labels = random_labels(n, k, 2);
  const auto weights = random_floats(k, 3, 0.25f, 2.0f);
  const float* cw = weighted ? weights.data() : nullptr;
  std::vector<float> want_d(n * k);
  const double want = cpu::softmax_cross_entropy(n, k, logits.data(), labels.data(), smoothing, cw, want_d.data());

  auto d_logits = t.to_device(logits), d_w = t.to_device(weights);
  auto d_labels = t.to_device(labels);
  cuda::DeviceBuffer<float> d_d(n * k);
  d_d.fill_bytes(0xFF, t.stream());
  const double got = cuda::softmax_cross_entropy(t.ctx(), n, k, d_logits.data(), d_labels.data(), smoothing,
                                                 weighted ? d_w.data() : nullptr, d_d.data());
  const Tolerance tl = double_scalar();
  std::printf("[parity] %s loss: gpu %.17g cpu %.17g |diff| %.3g\n", name.c_str(), got, want, std::fabs(got - want));
  EXPECT_LE(std::fabs(got - want), tl.rtol * std::fabs(want)) << name << ": " << tl.rule;
  // Both compute each gradient in double from the same formula and round once.
  EXPECT_TRUE(all_close(name + " dlogits", t.to_host(d_d), want_d, elementwise(max_abs(want_d))));
}

TEST_F(LossTest, ImageNetPlain) { check(*this, 32, 1000, 0.0, false, "n32 k1000"); }
TEST_F(LossTest, ImageNetSmoothed) { check(*this, 32, 1000, 0.1, false, "n32 k1000 e0.1"); }
TEST_F(LossTest, WeightedSmoothedSmallHead) { check(*this, 13, 10, 0.1, true, "n13 k10 e0.1 weighted"); }
TEST_F(LossTest, WeightedManyClasses) { check(*this, 8, 1000, 0.0, true, "n8 k1000 weighted"); }

TEST_F(LossTest, SoftmaxMatchesCpu) {
  const int64_t n = 16, k = 1000;
  const auto logits = random_floats(n * k, 4, -8.0f, 8.0f);
  std::vector<float> want(n * k);
  cpu::softmax(n, k, logits.data(), want.data());
  auto d_logits = to_device(logits);
  cuda::DeviceBuffer<float> d_p(n * k);
  cuda::softmax(ctx(), n, k, d_logits.data(), d_p.data());
  EXPECT_TRUE(all_close("softmax", to_host(d_p), want, elementwise(max_abs(want))));
}

TEST_F(LossTest, LabelOutOfRangeIsReported) {
  const int64_t n = 4, k = 10;
  auto d_logits = to_device(random_floats(n * k, 5));
  auto d_labels = to_device(std::vector<int32_t>{1, 2, 10, 3});
  try {
    cuda::softmax_cross_entropy(ctx(), n, k, d_logits.data(), d_labels.data(), 0.0, nullptr, nullptr);
    ADD_FAILURE() << "no error for label 10 of 10 classes";
  } catch (const InternalError& e) {
    EXPECT_NE(std::string(e.what()).find("label 10 of row 2"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace thaw::cuda_test
