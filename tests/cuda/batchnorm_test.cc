#include "kernels/cuda/batchnorm.h"

#include <gtest/gtest.h>

#include "kernels/cpu/batchnorm.h"
#include "tests/cuda/cuda_test_util.h"

namespace thaw::cuda_test {
namespace {

using BatchNormTest = CudaTest;

BnGeom bn_geom(int64_t n, int64_t c, int64_t hw) {
  BnGeom g;
  g.n = n, g.c = c, g.hw = hw;
  g.eps = 1e-3;  // timm's inception_v4
  g.momentum = 0.1;
  return g;
}

// Per-channel statistics are sums in double on both sides (in different orders), rounded once to
// float; the per-element work is a few float operations, fused differently by the two compilers.
// Hence the elementwise rule everywhere, scaled by the largest reference value.
struct Inputs {
  std::vector<float> x, gamma, beta, rmean, rvar, dy, dx0, dgamma0, dbeta0;
  explicit Inputs(const BnGeom& g)
      : x(random_floats(g.size(), 1, -0.5f, 1.5f)),  // an offset mean, as after a conv
        gamma(random_floats(g.c, 2, 0.5f, 1.5f)),
        beta(random_floats(g.c, 3, -0.5f, 0.5f)),
        rmean(random_floats(g.c, 4, -0.1f, 0.1f)),
        rvar(random_floats(g.c, 5, 0.5f, 1.5f)),
        dy(random_floats(g.size(), 6)),
        dx0(random_floats(g.size(), 7)),
        dgamma0(random_floats(g.c, 8)),
        dbeta0(random_floats(g.c, 9)) {}
};

void check_train(BatchNormTest& t, const BnGeom& g, const std::string& name) {
  const Inputs in(g);
  std::vector<float> y(g.size()), mean(g.c), invstd(g.c), rmean = in.rmean, rvar = in.rvar;
  cpu::batchnorm_forward_train(g, in.x.data(), in.gamma.data(), in.beta.data(), rmean.data(), rvar.data(), y.data(),
                               mean.data(), invstd.data());
  auto dx = in.dx0, dgamma = in.dgamma0, dbeta = in.dbeta0;
  cpu::batchnorm_backward_train(g, in.x.data(), in.dy.data(), in.gamma.data(), mean.data(), invstd.data(), dx.data(),
                                dgamma.data(), dbeta.data());

  auto d_x = t.to_device(in.x), d_gamma = t.to_device(in.gamma), d_beta = t.to_device(in.beta);
  auto d_rmean = t.to_device(in.rmean), d_rvar = t.to_device(in.rvar), d_dy = t.to_device(in.dy);
  auto d_dx = t.to_device(in.dx0), d_dgamma = t.to_device(in.dgamma0), d_dbeta = t.to_device(in.dbeta0);
  cuda::DeviceBuffer<float> d_y(g.size()), d_mean(g.c), d_invstd(g.c);
  d_y.fill_bytes(0xFF, t.stream());
  cuda::batchnorm_forward_train(t.ctx(), g, d_x.data(), d_gamma.data(), d_beta.data(), d_rmean.data(), d_rvar.data(),
                                d_y.data(), d_mean.data(), d_invstd.data());
  EXPECT_TRUE(all_close(name + " bn train y", t.to_host(d_y), y, elementwise(max_abs(y))));
  EXPECT_TRUE(all_close(name + " bn save_mean", t.to_host(d_mean), mean, elementwise(max_abs(mean))));
  EXPECT_TRUE(all_close(name + " bn save_invstd", t.to_host(d_invstd), invstd, elementwise(max_abs(invstd))));
  EXPECT_TRUE(all_close(name + " bn running_mean", t.to_host(d_rmean), rmean, elementwise(max_abs(rmean))));
  EXPECT_TRUE(all_close(name + " bn running_var", t.to_host(d_rvar), rvar, elementwise(max_abs(rvar))));

  // Backward from the CPU's saved statistics, so that it is tested on its own.
  auto d_smean = t.to_device(mean), d_sinv = t.to_device(invstd);
  cuda::batchnorm_backward_train(t.ctx(), g, d_x.data(), d_dy.data(), d_gamma.data(), d_smean.data(), d_sinv.data(),
                                 d_dx.data(), d_dgamma.data(), d_dbeta.data());
  EXPECT_TRUE(all_close(name + " bn train dx", t.to_host(d_dx), dx, elementwise(max_abs(dx))));
  EXPECT_TRUE(all_close(name + " bn train dgamma", t.to_host(d_dgamma), dgamma, elementwise(max_abs(dgamma))));
  EXPECT_TRUE(all_close(name + " bn train dbeta", t.to_host(d_dbeta), dbeta, elementwise(max_abs(dbeta))));

  // Affine frozen: no dgamma/dbeta, dx only.
  auto dx_only = in.dx0;
  cpu::batchnorm_backward_train(g, in.x.data(), in.dy.data(), in.gamma.data(), mean.data(), invstd.data(),
                                dx_only.data(), static_cast<float*>(nullptr), static_cast<float*>(nullptr));
  auto d_dx_only = t.to_device(in.dx0);
  cuda::batchnorm_backward_train(t.ctx(), g, d_x.data(), d_dy.data(), d_gamma.data(), d_smean.data(), d_sinv.data(),
                                 d_dx_only.data(), nullptr, nullptr);
  EXPECT_TRUE(all_close(name + " bn train dx (affine frozen)", t.to_host(d_dx_only), dx_only,
                        elementwise(max_abs(dx_only))));
}

void check_infer(BatchNormTest& t, const BnGeom& g, const std::string& name) {
  const Inputs in(g);
  std::vector<float> y(g.size());
  cpu::batchnorm_forward_infer(g, in.x.data(), in.gamma.data(), in.beta.data(), in.rmean.data(), in.rvar.data(),
                               y.data());
  auto dx = in.dx0, dgamma = in.dgamma0, dbeta = in.dbeta0;
  cpu::batchnorm_backward_infer(g, in.x.data(), in.dy.data(), in.gamma.data(), in.rmean.data(), in.rvar.data(),
                                dx.data(), dgamma.data(), dbeta.data());
  auto d_x = t.to_device(in.x), d_gamma = t.to_device(in.gamma), d_beta = t.to_device(in.beta);
  auto d_rmean = t.to_device(in.rmean), d_rvar = t.to_device(in.rvar), d_dy = t.to_device(in.dy);
  auto d_dx = t.to_device(in.dx0), d_dgamma = t.to_device(in.dgamma0), d_dbeta = t.to_device(in.dbeta0);
  cuda::DeviceBuffer<float> d_y(g.size());
  d_y.fill_bytes(0xFF, t.stream());
  cuda::batchnorm_forward_infer(t.ctx(), g, d_x.data(), d_gamma.data(), d_beta.data(), d_rmean.data(), d_rvar.data(),
                                d_y.data());
  cuda::batchnorm_backward_infer(t.ctx(), g, d_x.data(), d_dy.data(), d_gamma.data(), d_rmean.data(), d_rvar.data(),
                                 d_dx.data(), d_dgamma.data(), d_dbeta.data());
  EXPECT_TRUE(all_close(name + " bn infer y", t.to_host(d_y), y, elementwise(max_abs(y))));
  EXPECT_TRUE(all_close(name + " bn infer dx", t.to_host(d_dx), dx, elementwise(max_abs(dx))));
  EXPECT_TRUE(all_close(name + " bn infer dgamma", t.to_host(d_dgamma), dgamma, elementwise(max_abs(dgamma))));
  EXPECT_TRUE(all_close(name + " bn infer dbeta", t.to_host(d_dbeta), dbeta, elementwise(max_abs(dbeta))));
}

// conv2d_2b's BN: 64 channels of 147 x 147, batch 2.
TEST_F(BatchNormTest, TrainStem64x147x147) { check_train(*this, bn_geom(2, 64, 147 * 147), "stem 64x147x147"); }
// Inception-C: many channels, small planes, batch 16.
TEST_F(BatchNormTest, TrainInceptionC384x8x8) { check_train(*this, bn_geom(16, 384, 64), "inception_c 384x8x8"); }
TEST_F(BatchNormTest, InferStem64x147x147) { check_infer(*this, bn_geom(2, 64, 147 * 147), "stem 64x147x147"); }
TEST_F(BatchNormTest, InferInceptionB192x17x17) {
  check_infer(*this, bn_geom(2, 192, 17 * 17), "inception_b 192x17x17");
}

}  // namespace
}  // namespace thaw::cuda_test
