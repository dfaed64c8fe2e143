#include "kernels/cpu/batchnorm.h"
#include "kernels/cpu/relu.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "tests/kernels/kernel_test_util.h"
#include "tests/support/gradcheck.h"

namespace thaw {
namespace {

using testkit::cast_vec;
using testkit::random_values;

BnGeom bn_geom(int64_t n, int64_t c, int64_t hw) {
  BnGeom g;
  g.n = n, g.c = c, g.hw = hw;
  return g;
}

TEST(BatchNorm, TrainForwardHandExample) {
  // Channel 0 holds {1, 2 | 3, 6}: mean 3, biased variance 3.5, unbiased 14/3.
  // Channel 1 is constant -1: variance 0, so y = beta exactly.
  const BnGeom g = bn_geom(2, 2, 2);
  const std::vector<double> x = {1, 2, -1, -1, 3, 6, -1, -1};
  const std::vector<double> gamma = {2.0, 0.5}, beta = {0.5, -1.0};
  std::vector<double> rm = {0.5, 0.0}, rv = {2.0, 1.0}, y(8), sm(2), si(2);
  cpu::batchnorm_forward_train(g, x.data(), gamma.data(), beta.data(), rm.data(), rv.data(), y.data(), sm.data(),
                               si.data());
  const double inv0 = 1.0 / std::sqrt(3.5 + 1e-3);
  const std::vector<int> at = {0, 1, 4, 5};
  for (int i : at) EXPECT_NEAR(y[i], 2.0 * (x[i] - 3.0) * inv0 + 0.5, 1e-14) << i;
  for (int i : {2, 3, 6, 7}) EXPECT_EQ(y[i], -1.0) << i;
  EXPECT_NEAR(y[0], -1.6377845593, 1e-10);  // -4 / sqrt(3.501) + 0.5, evaluated separately
  EXPECT_DOUBLE_EQ(sm[0], 3.0);
  EXPECT_DOUBLE_EQ(sm[1], -1.0);
  EXPECT_NEAR(si[0], inv0, 1e-15);
  EXPECT_NEAR(si[1], 1.0 / std::sqrt(1e-3), 1e-12);
  // running = 0.9 * running + 0.1 * batch, the variance unbiased.
  EXPECT_NEAR(rm[0], 0.75, 1e-15);
  EXPECT_NEAR(rv[0], 1.8 + 0.1 * 14.0 / 3.0, 1e-15);
  EXPECT_NEAR(rm[1], -0.1, 1e-15);
  EXPECT_NEAR(rv[1], 0.9, 1e-15);

  // The same example in float.
  const auto xf = cast_vec<float>(x), gf = cast_vec<float>(gamma), bf = cast_vec<float>(beta);
  std::vector<float> rmf = {0.5f, 0.f}, rvf = {2.f, 1.f}, yf(8), smf(2), sif(2);
  cpu::batchnorm_forward_train(g, xf.data(), gf.data(), bf.data(), rmf.data(), rvf.data(), yf.data(), smf.data(),
                               sif.data());
  for (int i = 0; i < 8; ++i) EXPECT_NEAR(yf[i], y[i], 1e-6) << i;
  EXPECT_NEAR(rvf[0], 1.8 + 0.1 * 14.0 / 3.0, 1e-6);
}

TEST(BatchNorm, InferForwardMatchesFormula) {
  const BnGeom g = bn_geom(2, 3, 7);
  const auto x = random_values(g.size(), 1, -2, 2), gamma = random_values(3, 2, 0.5, 1.5);
  const auto beta = random_values(3, 3), rm = random_values(3, 4), rv = random_values(3, 5, 0.2, 2.0);
  std::vector<double> y(g.size());
  cpu::batchnorm_forward_infer(g, x.data(), gamma.data(), beta.data(), rm.data(), rv.data(), y.data());
  for (int64_t i = 0; i < g.size(); ++i) {
    const int64_t c = (i / g.hw) % g.c;
    EXPECT_NEAR(y[i], gamma[c] * (x[i] - rm[c]) / std::sqrt(rv[c] + g.eps) + beta[c], 1e-14) << i;
  }
}

// The frozen batch norm fused with its ReLU (Executor's forward_bn_relu) writes exactly what the
// two ops write one after the other, negative outputs, zeros and NaN included.
TEST(BatchNorm, InferFusedWithReluIsBatchNormThenRelu) {
  const BnGeom g = bn_geom(3, 5, 37);
  auto x = testkit::cast_vec<float>(random_values(g.size(), 6, -3, 3));
  x[5] = std::nanf("");
  const auto gamma = testkit::cast_vec<float>(random_values(5, 7, -1.5, 1.5));
  const auto beta = testkit::cast_vec<float>(random_values(5, 8));
  const auto rm = testkit::cast_vec<float>(random_values(5, 9));
  const auto rv = testkit::cast_vec<float>(random_values(5, 10, 0.2, 2.0));
  std::vector<float> bn(g.size()), two(g.size()), fused(g.size());
  cpu::batchnorm_forward_infer(g, x.data(), gamma.data(), beta.data(), rm.data(), rv.data(), bn.data());
  cpu::relu_forward<float>(g.size(), bn.data(), two.data());
  cpu::batchnorm_forward_infer(g, x.data(), gamma.data(), beta.data(), rm.data(), rv.data(), fused.data(), true);
  EXPECT_TRUE(testkit::same_bits(two, fused));
  int64_t negative = 0;
  for (float v : bn) negative += v < 0;
  EXPECT_GT(negative, g.size() / 4);  // the ReLU had work to do
}

// The training forward fused with its ReLU: the same output bits as the two ops, and the same
// saved and running statistics.
TEST(BatchNorm, TrainFusedWithReluIsBatchNormThenRelu) {
  const BnGeom g = bn_geom(3, 5, 37);
  const auto x = testkit::cast_vec<float>(random_values(g.size(), 16, -3, 3));
  const auto gamma = testkit::cast_vec<float>(random_values(5, 17, -1.5, 1.5));
  const auto beta = testkit::cast_vec<float>(random_values(5, 18));
  const auto rm0 = testkit::cast_vec<float>(random_values(5, 19)), rv0 = testkit::cast_vec<float>(random_values(5, 20, 0.2, 2.0));
  auto rm_a = rm0, rv_a = rv0, rm_b = rm0, rv_b = rv0;
  std::vector<float> bn(g.size()), two(g.size()), fused(g.size()), m_a(5), s_a(5), m_b(5), s_b(5);
  cpu::batchnorm_forward_train(g, x.data(), gamma.data(), beta.data(), rm_a.data(), rv_a.data(), bn.data(), m_a.data(),
                               s_a.data());
  cpu::relu_forward<float>(g.size(), bn.data(), two.data());
  cpu::batchnorm_forward_train(g, x.data(), gamma.data(), beta.data(), rm_b.data(), rv_b.data(), fused.data(),
                               m_b.data(), s_b.data(), true);
  EXPECT_TRUE(testkit::same_bits(two, fused));
  EXPECT_TRUE(testkit::same_bits(m_a, m_b) && testkit::same_bits(s_a, s_b));
  EXPECT_TRUE(testkit::same_bits(rm_a, rm_b) && testkit::same_bits(rv_a, rv_b));
  int64_t negative = 0;
  for (float v : bn) negative += v < 0;
  EXPECT_GT(negative, g.size() / 4);  // the ReLU had work to do
}

TEST(BatchNorm, TrainGradientsMatchFiniteDifferences) {
  const BnGeom g = bn_geom(3, 2, 5);
  std::vector<double> x = random_values(g.size(), 11, -2, 2), gamma = random_values(2, 12, 0.5, 1.5);
  std::vector<double> beta = random_values(2, 13);
  const auto r = random_values(g.size(), 14);
  std::vector<double> y(g.size()), sm(2), si(2);
  auto forward = [&] {
    std::vector<double> rm(2, 0.0), rv(2, 1.0);  // scratch: the loss must not depend on call count
    cpu::batchnorm_forward_train(g, x.data(), gamma.data(), beta.data(), rm.data(), rv.data(), y.data(), sm.data(),
                                 si.data());
    return testkit::dot(r, y);
  };
  forward();
  const auto dx0 = random_values(g.size(), 15), dg0 = random_values(2, 16), db0 = random_values(2, 17);
  auto dx = dx0, dg = dg0, db = db0;
  cpu::batchnorm_backward_train(g, x.data(), r.data(), gamma.data(), sm.data(), si.data(), dx.data(), dg.data(),
                                db.data());
  const auto gx = testkit::difference(dx, dx0), gg = testkit::difference(dg, dg0), gb = testkit::difference(db, db0);
  const testkit::ScopedThreads one_thread(1);
  const auto report = testkit::check_gradients(forward, {{"x", x, gx}, {"gamma", gamma, gg}, {"beta", beta, gb}});
  EXPECT_TRUE(report.ok()) << report.describe();
  EXPECT_EQ(report.checked, g.size() + 4);

  // Null outputs are skipped and do not change the others.
  auto dx_only = dx0;
  cpu::batchnorm_backward_train(g, x.data(), r.data(), gamma.data(), sm.data(), si.data(), dx_only.data(),
                                static_cast<double*>(nullptr), static_cast<double*>(nullptr));
  EXPECT_TRUE(testkit::same_bits(dx_only, dx));
  auto dg_only = dg0, db_only = db0;
  cpu::batchnorm_backward_train(g, x.data(), r.data(), gamma.data(), sm.data(), si.data(),
                                static_cast<double*>(nullptr), dg_only.data(), db_only.data());
  EXPECT_TRUE(testkit::same_bits(dg_only, dg));
  EXPECT_TRUE(testkit::same_bits(db_only, db));
}

TEST(BatchNorm, InferGradientsMatchFiniteDifferences) {
  const BnGeom g = bn_geom(2, 3, 4);
  std::vector<double> x = random_values(g.size(), 21, -2, 2), gamma = random_values(3, 22, 0.5, 1.5);
  std::vector<double> beta = random_values(3, 23);
  const auto rm = random_values(3, 24), rv = random_values(3, 25, 0.2, 2.0), r = random_values(g.size(), 26);
  std::vector<double> y(g.size());
  auto forward = [&] {
    cpu::batchnorm_forward_infer(g, x.data(), gamma.data(), beta.data(), rm.data(), rv.data(), y.data());
    return testkit::dot(r, y);
  };
  const auto dx0 = random_values(g.size(), 27), dg0 = random_values(3, 28), db0 = random_values(3, 29);
  auto dx = dx0, dg = dg0, db = db0;
  cpu::batchnorm_backward_infer(g, x.data(), r.data(), gamma.data(), rm.data(), rv.data(), dx.data(), dg.data(),
                                db.data());
  const auto gx = testkit::difference(dx, dx0), gg = testkit::difference(dg, dg0), gb = testkit::difference(db, db0);
  const testkit::ScopedThreads one_thread(1);
  const auto report = testkit::check_gradients(forward, {{"x", x, gx}, {"gamma", gamma, gg}, {"beta", beta, gb}});
  EXPECT_TRUE(report.ok()) << report.describe();
  EXPECT_EQ(report.checked, g.size() + 6);

  auto dx_only = dx0;
  cpu::batchnorm_backward_infer(g, x.data(), r.data(), gamma.data(), rm.data(), rv.data(), dx_only.data(),
                                static_cast<double*>(nullptr), static_cast<double*>(nullptr));
  EXPECT_TRUE(testkit::same_bits(dx_only, dx));
}

struct BnRun {
  std::vector<float> y, rm, rv, sm, si, dx, dg, db;
};

BnRun run_bn_float(const BnGeom& g, uint32_t stream) {
  const auto x = cast_vec<float>(random_values(g.size(), stream, 2.0, 4.0));  // off-centre: tests cancellation
  const auto gamma = cast_vec<float>(random_values(g.c, stream + 1, 0.5, 1.5));
  const auto beta = cast_vec<float>(random_values(g.c, stream + 2));
  const auto dy = cast_vec<float>(random_values(g.size(), stream + 3));
  BnRun o{std::vector<float>(g.size()), cast_vec<float>(random_values(g.c, stream + 4)),
          cast_vec<float>(random_values(g.c, stream + 5, 0.5, 2.0)), std::vector<float>(g.c), std::vector<float>(g.c),
          std::vector<float>(g.size(), 0.f), std::vector<float>(g.c, 0.f), std::vector<float>(g.c, 0.f)};
  cpu::batchnorm_forward_train(g, x.data(), gamma.data(), beta.data(), o.rm.data(), o.rv.data(), o.y.data(),
                               o.sm.data(), o.si.data());
  cpu::batchnorm_backward_train(g, x.data(), dy.data(), gamma.data(), o.sm.data(), o.si.data(), o.dx.data(),
                                o.dg.data(), o.db.data());
  return o;
}

TEST(BatchNorm, TrainBitIdenticalForAnyThreadCount) {
  const BnGeom g = bn_geom(5, 7, 61);
  const BnRun one = testkit::with_threads(1, [&] { return run_bn_float(g, 40); });
  for (int threads : {2, 3}) {
    const BnRun many = testkit::with_threads(threads, [&] { return run_bn_float(g, 40); });
    for (auto [a, b, what] : {std::tuple{&one.y, &many.y, "y"}, {&one.rm, &many.rm, "running_mean"},
                              {&one.rv, &many.rv, "running_var"}, {&one.dx, &many.dx, "dx"},
                              {&one.dg, &many.dg, "dgamma"}, {&one.db, &many.db, "dbeta"}}) {
      EXPECT_TRUE(testkit::same_bits(*a, *b)) << what << " with " << threads << " threads";
    }
  }
}

// Float vs double, each quantity within 1e-5 of its magnitude scale:
//   y: 1e-5 * (1 + |y|);  dgamma, dbeta: 1e-5 * sum |terms|;
//   dx: 1e-5 * gamma * invstd * (|dy| + |mean dy| + |xhat| * |mean(dy * xhat)| + 1e-3).
TEST(BatchNorm, FloatAgreesWithDouble) {
  const BnGeom g = bn_geom(4, 3, 50);
  const auto x = random_values(g.size(), 50, 2.0, 4.0), gamma = random_values(g.c, 51, 0.5, 1.5);
  const auto beta = random_values(g.c, 52), dy = random_values(g.size(), 53);
  std::vector<double> rm(g.c, 0.0), rv(g.c, 1.0), y(g.size()), sm(g.c), si(g.c), dx(g.size(), 0.0), dg(g.c, 0.0),
      db(g.c, 0.0);
  cpu::batchnorm_forward_train(g, x.data(), gamma.data(), beta.data(), rm.data(), rv.data(), y.data(), sm.data(),
                               si.data());
  cpu::batchnorm_backward_train(g, x.data(), dy.data(), gamma.data(), sm.data(), si.data(), dx.data(), dg.data(),
                                db.data());
  const auto xf = cast_vec<float>(x), gf = cast_vec<float>(gamma), bf = cast_vec<float>(beta);
  const auto dyf = cast_vec<float>(dy);
  std::vector<float> rmf(g.c, 0.f), rvf(g.c, 1.f), yf(g.size()), smf(g.c), sif(g.c), dxf(g.size(), 0.f), dgf(g.c, 0.f),
      dbf(g.c, 0.f);
  cpu::batchnorm_forward_train(g, xf.data(), gf.data(), bf.data(), rmf.data(), rvf.data(), yf.data(), smf.data(),
                               sif.data());
  cpu::batchnorm_backward_train(g, xf.data(), dyf.data(), gf.data(), smf.data(), sif.data(), dxf.data(), dgf.data(),
                                dbf.data());
  const double m = static_cast<double>(g.n * g.hw);
  for (int64_t c = 0; c < g.c; ++c) {
    double sum_dy = 0, sum_dyxh = 0, abs_dy = 0, abs_dyxh = 0;
    for (int64_t n = 0; n < g.n; ++n) {
      for (int64_t i = (n * g.c + c) * g.hw; i < (n * g.c + c + 1) * g.hw; ++i) {
        const double xh = (x[i] - sm[c]) * si[c];
        sum_dy += dy[i], sum_dyxh += dy[i] * xh, abs_dy += std::abs(dy[i]), abs_dyxh += std::abs(dy[i] * xh);
      }
    }
    EXPECT_NEAR(dgf[c], dg[c], 1e-5 * abs_dyxh) << c;
    EXPECT_NEAR(dbf[c], db[c], 1e-5 * abs_dy) << c;
    EXPECT_NEAR(rmf[c], rm[c], 1e-5 * (1 + std::abs(rm[c]))) << c;
    EXPECT_NEAR(rvf[c], rv[c], 1e-5 * (1 + std::abs(rv[c]))) << c;
    for (int64_t n = 0; n < g.n; ++n) {
      for (int64_t i = (n * g.c + c) * g.hw; i < (n * g.c + c + 1) * g.hw; ++i) {
        const double xh = (x[i] - sm[c]) * si[c];
        EXPECT_NEAR(yf[i], y[i], 1e-5 * (1 + std::abs(y[i]))) << i;
        const double scale = gamma[c] * si[c] *
                             (std::abs(dy[i]) + std::abs(sum_dy / m) + std::abs(xh) * std::abs(sum_dyxh / m) + 1e-3);
        EXPECT_NEAR(dxf[i], dx[i], 1e-5 * scale) << i;
      }
    }
  }
}

}  // namespace
}  // namespace thaw
