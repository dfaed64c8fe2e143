// Two runs of the same op on the same inputs give memcmp-identical outputs: the property the run
// records promise (DETERMINISM.md). Each output buffer is filled with NaN before each run, so a
// run that skipped an element could not pass by leftover data.
#include <gtest/gtest.h>

#include "kernels/cuda/batchnorm.h"
#include "kernels/cuda/conv2d.h"
#include "kernels/cuda/linear.h"
#include "kernels/cuda/loss.h"
#include "kernels/cuda/maxpool.h"
#include "tests/support/inception_conv_shapes.h"
#include "tests/cuda/cuda_test_util.h"
#include "tests/cuda/pool_test_shapes.h"

namespace thaw::cuda_test {
namespace {

using testkit::ConvCase;
using testkit::conv_geom;
using testkit::inception_conv_cases;

using DeterminismTest = CudaTest;

// Runs `op` into a NaN-filled buffer of `count` floats and returns the result.
template <typename Op>
std::vector<float> run_once(DeterminismTest& t, size_t count, Op op) {
  cuda::DeviceBuffer<float> out(count);
  out.fill_bytes(0xFF, t.stream());
  op(out.data());
  return t.to_host(out);
}

void check_convolution(DeterminismTest& t, const ConvCase& c) {
  const ConvGeom& g = c.g;
  cuda::Context& ctx = t.ctx();
  auto d_x = t.to_device(random_floats(g.x_size(), 1)), d_w = t.to_device(random_floats(g.w_size(), 2));
  auto d_dy = t.to_device(random_floats(g.y_size(), 3));
  auto fwd = [&](float* y) { cuda::conv2d_forward(ctx, g, d_x.data(), d_w.data(), y); };
  auto dgrad = [&](float* dx) {
    cuda::conv2d_backward_data(ctx, g, d_dy.data(), d_w.data(), dx, cuda::OutputMode::overwrite);
  };
  auto wgrad = [&](float* dw) {
    cuda::conv2d_backward_weight(ctx, g, d_x.data(), d_dy.data(), dw, cuda::OutputMode::overwrite);
  };
  const auto y1 = run_once(t, g.y_size(), fwd), y2 = run_once(t, g.y_size(), fwd);
  const auto dx1 = run_once(t, g.x_size(), dgrad), dx2 = run_once(t, g.x_size(), dgrad);
  const auto dw1 = run_once(t, g.w_size(), wgrad), dw2 = run_once(t, g.w_size(), wgrad);
  EXPECT_TRUE(same_bits(c.name + " conv fwd", y1, y2));
  EXPECT_TRUE(same_bits(c.name + " conv dgrad", dx1, dx2));
  EXPECT_TRUE(same_bits(c.name + " conv wgrad", dw1, dw2));

  // Plans built again from nothing choose the same engines and give the same bits.
  const std::string before = cuda::conv2d_plan_report(ctx, cuda::ConvDirection::backward_weight, g);
  ctx.clear_plans();
  EXPECT_EQ(cuda::conv2d_plan_report(ctx, cuda::ConvDirection::backward_weight, g), before);
  EXPECT_TRUE(same_bits(c.name + " conv fwd, rebuilt plan", run_once(t, g.y_size(), fwd), y1));
  EXPECT_TRUE(same_bits(c.name + " conv dgrad, rebuilt plan", run_once(t, g.x_size(), dgrad), dx1));
  EXPECT_TRUE(same_bits(c.name + " conv wgrad, rebuilt plan", run_once(t, g.w_size(), wgrad), dw1));
}

TEST_F(DeterminismTest, ConvolutionInEveryDirectionAndAfterRebuildingPlans) {
  for (const ConvCase& c : inception_conv_cases()) {
    try {
      check_convolution(*this, c);
    } catch (const InternalError& e) {
      ADD_FAILURE() << c.name << ": " << e.what();  // and go on with the other problems
    }
  }
}

TEST_F(DeterminismTest, BatchNormTrainForwardAndBackward) {
  BnGeom g;
  g.n = 2, g.c = 64, g.hw = 147 * 147, g.eps = 1e-3;
  auto d_x = to_device(random_floats(g.size(), 1, -0.5f, 1.5f)), d_dy = to_device(random_floats(g.size(), 2));
  auto d_gamma = to_device(random_floats(g.c, 3, 0.5f, 1.5f)), d_beta = to_device(random_floats(g.c, 4));
  cuda::DeviceBuffer<float> d_mean(g.c), d_inv(g.c), d_y(g.size());
  auto rm = random_floats(g.c, 5), rv = random_floats(g.c, 6, 0.5f, 1.5f);
  auto forward = [&](float* y) {
    auto d_rm = to_device(rm), d_rv = to_device(rv);
    cuda::batchnorm_forward_train(ctx(), g, d_x.data(), d_gamma.data(), d_beta.data(), d_rm.data(), d_rv.data(), y,
                                  d_mean.data(), d_inv.data());
  };
  const auto y1 = run_once(*this, g.size(), forward), mean1 = to_host(d_mean), inv1 = to_host(d_inv);
  const auto y2 = run_once(*this, g.size(), forward), mean2 = to_host(d_mean), inv2 = to_host(d_inv);
  EXPECT_TRUE(same_bits("bn forward y", y1, y2));
  EXPECT_TRUE(same_bits("bn forward mean", mean1, mean2));
  EXPECT_TRUE(same_bits("bn forward invstd", inv1, inv2));

  const auto dx0 = random_floats(g.size(), 7), dg0 = random_floats(g.c, 8);
  auto backward = [&](std::vector<float>* dgamma, std::vector<float>* dbeta) {
    auto d_dx = to_device(dx0), d_dg = to_device(dg0), d_db = to_device(dg0);
    cuda::batchnorm_backward_train(ctx(), g, d_x.data(), d_dy.data(), d_gamma.data(), d_mean.data(), d_inv.data(),
                                   d_dx.data(), d_dg.data(), d_db.data());
    *dgamma = to_host(d_dg);
    *dbeta = to_host(d_db);
    return to_host(d_dx);
  };
  std::vector<float> dg1, db1, dg2, db2;
  const auto dx1 = backward(&dg1, &db1), dx2 = backward(&dg2, &db2);
  EXPECT_TRUE(same_bits("bn backward dx", dx1, dx2));
  EXPECT_TRUE(same_bits("bn backward dgamma", dg1, dg2));
  EXPECT_TRUE(same_bits("bn backward dbeta", db1, db2));
}

TEST_F(DeterminismTest, MaxPoolBackward) {
  const PoolGeom g = pool_geom(2, 64, 147, 147, 3, 2, 0);
  auto d_x = to_device(random_floats(g.x_size(), 1)), d_dy = to_device(random_floats(g.y_size(), 2));
  cuda::DeviceBuffer<float> d_y(g.y_size());
  cuda::DeviceBuffer<int32_t> d_am(g.y_size());
  cuda::maxpool_forward(ctx(), g, d_x.data(), d_y.data(), d_am.data());
  auto backward = [&](float* dx) {
    THAW_CUDA_CHECK(cudaMemsetAsync(dx, 0, g.x_size() * sizeof(float), stream()));
    cuda::maxpool_backward(ctx(), g, d_dy.data(), d_am.data(), dx);
  };
  EXPECT_TRUE(same_bits("maxpool backward", run_once(*this, g.x_size(), backward),
                        run_once(*this, g.x_size(), backward)));
}

TEST_F(DeterminismTest, LinearAndLoss) {
  LinearGeom g;
  g.n = 32, g.in = 1536, g.out = 1000;
  auto d_x = to_device(random_floats(g.n * g.in, 1)), d_w = to_device(random_floats(g.out * g.in, 2));
  auto d_dy = to_device(random_floats(g.n * g.out, 3));
  auto dw = [&](float* out) {
    cuda::linear_backward(ctx(), g, d_x.data(), d_w.data(), d_dy.data(), nullptr, out, nullptr,
                          cuda::OutputMode::overwrite);
  };
  EXPECT_TRUE(same_bits("linear dw", run_once(*this, g.out * g.in, dw), run_once(*this, g.out * g.in, dw)));

  std::vector<int32_t> labels(g.n);
  for (int64_t i = 0; i < g.n; ++i) labels[i] = static_cast<int32_t>((i * 37) % g.out);
  auto d_labels = to_device(labels);
  auto d_logits = to_device(random_floats(g.n * g.out, 4, -4.0f, 4.0f));
  double l1 = 0, l2 = 0;
  const auto d1 = run_once(*this, g.n * g.out, [&](float* d) {
    l1 = cuda::softmax_cross_entropy(ctx(), g.n, g.out, d_logits.data(), d_labels.data(), 0.1, nullptr, d);
  });
  const auto d2 = run_once(*this, g.n * g.out, [&](float* d) {
    l2 = cuda::softmax_cross_entropy(ctx(), g.n, g.out, d_logits.data(), d_labels.data(), 0.1, nullptr, d);
  });
  EXPECT_EQ(std::memcmp(&l1, &l2, sizeof(double)), 0) << l1 << " vs " << l2;
  EXPECT_TRUE(same_bits("cross-entropy dlogits", d1, d2));
}

}  // namespace
}  // namespace thaw::cuda_test
