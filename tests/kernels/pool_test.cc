#include "kernels/cpu/pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <vector>

#include "core/error.h"
#include "tests/kernels/kernel_test_util.h"
#include "tests/support/gradcheck.h"

namespace thaw {
namespace {

using testkit::random_values;

PoolGeom pool_geom(int64_t n, int64_t c, int64_t h, int64_t w, int64_t k, int64_t s, int64_t p,
                   bool count_pad = false) {
  PoolGeom g;
  g.n = n, g.c = c, g.h_in = h, g.w_in = w, g.k = k, g.stride = s, g.pad = p, g.count_pad = count_pad;
  return g;
}

// Distinct values 0.05 apart in a random order, so no max-pool window is within a step of a tie.
std::vector<double> spread_values(int64_t count, uint32_t stream) {
  const auto key = random_values(count, stream);
  std::vector<int64_t> order(count);
  std::iota(order.begin(), order.end(), int64_t{0});
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return key[a] < key[b]; });
  std::vector<double> v(count);
  for (int64_t r = 0; r < count; ++r) v[order[r]] = 0.05 * static_cast<double>(r) - 1.0;
  return v;
}

void check_maxpool_gradient(const PoolGeom& g) {
  std::vector<double> x = spread_values(g.x_size(), 1);
  const auto r = random_values(g.y_size(), 2);
  std::vector<double> y(g.y_size());
  std::vector<int32_t> am(g.y_size());
  auto loss = [&] {
    cpu::maxpool_forward(g, x.data(), y.data(), am.data());
    return testkit::dot(r, y);
  };
  loss();
  const auto dx0 = random_values(g.x_size(), 3);
  auto dx = dx0;
  cpu::maxpool_backward(g, r.data(), am.data(), dx.data());
  const auto gx = testkit::difference(dx, dx0);
  testkit::GradCheckOptions opt;
  opt.branches = [&] {
    loss();
    return std::vector<int64_t>(am.begin(), am.end());
  };
  const testkit::ScopedThreads one_thread(1);
  const auto report = testkit::check_gradients(loss, {{"x", x, gx}}, opt);
  EXPECT_TRUE(report.ok()) << report.describe();
  EXPECT_EQ(report.checked, g.x_size());  // the spread keeps every coordinate off a tie
}

TEST(MaxPool, Gradient3x3Stride2Unpadded) { check_maxpool_gradient(pool_geom(2, 2, 9, 8, 3, 2, 0)); }
TEST(MaxPool, Gradient3x3Stride2Padded) { check_maxpool_gradient(pool_geom(1, 2, 8, 7, 3, 2, 1)); }
TEST(MaxPool, Gradient3x3Stride1Padded) { check_maxpool_gradient(pool_geom(1, 2, 5, 6, 3, 1, 1)); }

TEST(MaxPool, FirstMaximumInWindowOrderWins) {
  // One 3x4 plane; the window at (0,0) covers rows 0-2, columns 0-2.
  const PoolGeom g = pool_geom(1, 1, 3, 4, 3, 1, 0);
  const std::vector<float> x = {0, 5, 1, 9,  //
                                5, 2, 5, 0,  //
                                1, 1, 1, 0};
  std::vector<float> y(g.y_size());
  std::vector<int32_t> am(g.y_size());
  cpu::maxpool_forward(g, x.data(), y.data(), am.data());
  ASSERT_EQ(g.y_size(), 2);
  EXPECT_EQ(y[0], 5.f);
  EXPECT_EQ(am[0], 1);  // (0,1) comes before (1,0) and (1,2)
  EXPECT_EQ(y[1], 9.f);
  EXPECT_EQ(am[1], 3);
  std::vector<float> dx(x.size(), 0.f);
  const std::vector<float> dy = {2.f, 3.f};
  cpu::maxpool_backward(g, dy.data(), am.data(), dx.data());
  EXPECT_EQ(dx[1], 2.f);
  EXPECT_EQ(dx[3], 3.f);
  EXPECT_EQ(std::accumulate(dx.begin(), dx.end(), 0.f), 5.f);
}

// The float path (eight outputs at a time where windows lie inside, kernels/cpu/maxpool_simd.h)
// against the definition, value and argmax bit for bit: ties everywhere (values from five levels)
// and NaNs among them, rows wide enough for several vector blocks and a scalar tail, strides 1, 2
// and 3, padded and not.
TEST(MaxPool, FloatEqualsTheDefinitionWithTiesAndNaNs) {
  const PoolGeom geoms[] = {pool_geom(2, 3, 37, 41, 3, 2, 0), pool_geom(1, 2, 30, 35, 3, 1, 1),
                            pool_geom(1, 2, 21, 40, 3, 2, 1), pool_geom(1, 2, 12, 29, 2, 2, 0),
                            pool_geom(1, 1, 16, 50, 3, 3, 0), pool_geom(1, 1, 9, 26, 5, 1, 2)};
  for (const PoolGeom& g : geoms) {
    const auto r = random_values(g.x_size(), 21);
    std::vector<float> x(g.x_size());
    for (int64_t i = 0; i < g.x_size(); ++i) {
      x[i] = std::floor(static_cast<float>(r[i] + 1.0) * 2.5f);
      if (i % 37 == 5) x[i] = std::numeric_limits<float>::quiet_NaN();
    }
    std::vector<float> y(g.y_size());
    std::vector<int32_t> am(g.y_size());
    cpu::maxpool_forward(g, x.data(), y.data(), am.data());
    const int64_t ho = g.h_out(), wo = g.w_out();
    for (int64_t plane = 0; plane < g.n * g.c; ++plane) {
      const float* xp = x.data() + plane * g.h_in * g.w_in;
      for (int64_t oh = 0; oh < ho; ++oh) {
        for (int64_t ow = 0; ow < wo; ++ow) {
          int64_t best = -1;
          for (int64_t h = oh * g.stride - g.pad; h < oh * g.stride - g.pad + g.k; ++h) {
            for (int64_t w = ow * g.stride - g.pad; w < ow * g.stride - g.pad + g.k; ++w) {
              if (h < 0 || h >= g.h_in || w < 0 || w >= g.w_in) continue;
              if (best < 0 || xp[h * g.w_in + w] > xp[best]) best = h * g.w_in + w;
            }
          }
          const int64_t o = (plane * ho + oh) * wo + ow;
          ASSERT_EQ(am[o], best) << "k" << g.k << " s" << g.stride << " p" << g.pad << " at " << plane << ","
                                 << oh << "," << ow;
          ASSERT_EQ(std::memcmp(&y[o], &xp[best], sizeof(float)), 0);
        }
      }
    }
  }
}

TEST(MaxPool, ArgmaxIsWithinPlaneIndex) {
  const PoolGeom g = pool_geom(2, 3, 7, 7, 3, 2, 0);
  const auto x = random_values(g.x_size(), 9);
  std::vector<double> y(g.y_size());
  std::vector<int32_t> am(g.y_size());
  cpu::maxpool_forward(g, x.data(), y.data(), am.data());
  const int64_t out_plane = g.h_out() * g.w_out();
  for (int64_t o = 0; o < g.y_size(); ++o) {
    ASSERT_GE(am[o], 0);
    ASSERT_LT(am[o], g.h_in * g.w_in);
    EXPECT_EQ(y[o], x[(o / out_plane) * g.h_in * g.w_in + am[o]]);
  }
}

// Straight from the definition: the sum of the window's cells inside the input, divided by their
// number, or with count_pad by the number of the window's cells inside the padded input.
std::vector<double> naive_avgpool(const PoolGeom& g, const std::vector<double>& x) {
  std::vector<double> y;
  for (int64_t p = 0; p < g.n * g.c; ++p) {
    for (int64_t oh = 0; oh < g.h_out(); ++oh) {
      for (int64_t ow = 0; ow < g.w_out(); ++ow) {
        double s = 0;
        int64_t count = 0;
        for (int64_t a = 0; a < g.k; ++a) {
          for (int64_t b = 0; b < g.k; ++b) {
            const int64_t h = oh * g.stride - g.pad + a, w = ow * g.stride - g.pad + b;
            if (g.count_pad && h < g.h_in + g.pad && w < g.w_in + g.pad) ++count;
            if (h < 0 || h >= g.h_in || w < 0 || w >= g.w_in) continue;
            s += x[(p * g.h_in + h) * g.w_in + w];
            if (!g.count_pad) ++count;
          }
        }
        y.push_back(s / static_cast<double>(count));
      }
    }
  }
  return y;
}

// The float average pool's exact arithmetic, written out: each window row's inside cells added in
// column order from zero (double), those row sums added in row order from zero, one division by
// rows * columns counted. The pass structure may change; these bits may not (records replay). In
// double, sums of a few floats are exact or nearly so: for float inputs this pins the window's
// cells, the divisor and the output bits more than the order of the additions (the backward's test,
// whose additions are in float, pins their order too).
std::vector<float> separable_avgpool(const PoolGeom& g, const std::vector<float>& x) {
  auto cells = [&](int64_t start, int64_t len) {
    if (g.count_pad) return static_cast<double>(std::min(start + g.k, len + g.pad) - start);
    return static_cast<double>(std::min(start + g.k, len) - std::max<int64_t>(start, 0));
  };
  std::vector<float> y;
  for (int64_t p = 0; p < g.n * g.c; ++p) {
    for (int64_t oh = 0; oh < g.h_out(); ++oh) {
      for (int64_t ow = 0; ow < g.w_out(); ++ow) {
        const int64_t hs = oh * g.stride - g.pad, ws = ow * g.stride - g.pad;
        double acc = 0.0;
        for (int64_t h = std::max<int64_t>(hs, 0); h < std::min(hs + g.k, g.h_in); ++h) {
          double row = 0.0;
          for (int64_t w = ws; w < ws + g.k; ++w) {
            if (w >= 0 && w < g.w_in) row += static_cast<double>(x[(p * g.h_in + h) * g.w_in + w]);
          }
          acc += row;
        }
        y.push_back(static_cast<float>(acc / (cells(hs, g.h_in) * cells(ws, g.w_in))));
      }
    }
  }
  return y;
}

TEST(AvgPool, FloatKeepsItsSeparableArithmeticBitForBit) {
  const PoolGeom geoms[] = {pool_geom(2, 3, 35, 35, 3, 1, 1), pool_geom(1, 4, 17, 17, 3, 1, 1, true),
                            pool_geom(1, 2, 8, 9, 3, 1, 1), pool_geom(1, 2, 4, 2, 3, 1, 1),
                            pool_geom(1, 2, 9, 11, 5, 3, 2), pool_geom(1, 2, 8, 7, 3, 2, 1, true)};
  for (const PoolGeom& g : geoms) {
    const auto r = random_values(g.x_size(), 44);
    std::vector<float> x(g.x_size());
    for (int64_t i = 0; i < g.x_size(); ++i) x[i] = static_cast<float>(r[i] * 3.0);
    x[0] = -0.0f;  // a signed zero where the sums start from +0
    std::vector<float> y(g.y_size());
    cpu::avgpool_forward(g, x.data(), y.data());
    const std::vector<float> want = separable_avgpool(g, x);
    ASSERT_EQ(want.size(), y.size());
    ASSERT_EQ(std::memcmp(y.data(), want.data(), y.size() * sizeof(float)), 0)
        << g.h_in << "x" << g.w_in << " k" << g.k << " s" << g.stride << " p" << g.pad;
  }
}

// The backward's exact arithmetic: each output's gradient over its cell count (double); an input
// row's shares per output column added in output-row order from zero; each input cell then adds its
// windows' shares, rounded to float, in column-tap order onto what it held.
std::vector<float> separable_avgpool_backward(const PoolGeom& g, const std::vector<float>& dy, std::vector<float> dx) {
  auto cells = [&](int64_t start, int64_t len) {
    if (g.count_pad) return static_cast<double>(std::min(start + g.k, len + g.pad) - start);
    return static_cast<double>(std::min(start + g.k, len) - std::max<int64_t>(start, 0));
  };
  const int64_t ho = g.h_out(), wo = g.w_out();
  for (int64_t p = 0; p < g.n * g.c; ++p) {
    for (int64_t h = 0; h < g.h_in; ++h) {
      std::vector<double> cs(static_cast<size_t>(wo), 0.0);
      for (int64_t oh = 0; oh < ho; ++oh) {
        const int64_t hs = oh * g.stride - g.pad;
        if (h < hs || h >= hs + g.k) continue;
        for (int64_t ow = 0; ow < wo; ++ow) {
          cs[ow] += static_cast<double>(dy[(p * ho + oh) * wo + ow]) / (cells(hs, g.h_in) * cells(ow * g.stride - g.pad, g.w_in));
        }
      }
      for (int64_t kj = 0; kj < g.k; ++kj) {
        for (int64_t ow = 0; ow < wo; ++ow) {
          const int64_t w = ow * g.stride - g.pad + kj;
          if (w >= 0 && w < g.w_in) dx[(p * g.h_in + h) * g.w_in + w] += static_cast<float>(cs[ow]);
        }
      }
    }
  }
  return dx;
}

TEST(AvgPool, FloatBackwardKeepsItsArithmeticBitForBit) {
  const PoolGeom geoms[] = {pool_geom(2, 3, 35, 35, 3, 1, 1), pool_geom(1, 4, 17, 17, 3, 1, 1, true),
                            pool_geom(1, 2, 8, 9, 3, 1, 1), pool_geom(1, 2, 4, 2, 3, 1, 1),
                            pool_geom(1, 2, 9, 11, 5, 3, 2), pool_geom(1, 2, 8, 7, 3, 2, 1, true),
                            pool_geom(1, 1, 10, 10, 2, 3, 0)};
  for (const PoolGeom& g : geoms) {
    const auto r = random_values(g.y_size(), 45), r0 = random_values(g.x_size(), 46);
    std::vector<float> dy(g.y_size()), dx(g.x_size());
    for (int64_t i = 0; i < g.y_size(); ++i) dy[i] = static_cast<float>(r[i] * 3.0);
    for (int64_t i = 0; i < g.x_size(); ++i) dx[i] = static_cast<float>(r0[i]);
    const std::vector<float> want = separable_avgpool_backward(g, dy, dx);
    cpu::avgpool_backward(g, dy.data(), dx.data());
    ASSERT_EQ(std::memcmp(dx.data(), want.data(), dx.size() * sizeof(float)), 0)
        << g.h_in << "x" << g.w_in << " k" << g.k << " s" << g.stride << " p" << g.pad;
  }
}

class AvgPoolShapes : public ::testing::TestWithParam<PoolGeom> {};

TEST_P(AvgPoolShapes, ForwardMatchesDefinitionAndGradientMatchesFiniteDifferences) {
  const PoolGeom g = GetParam();
  std::vector<double> x = random_values(g.x_size(), 41);
  std::vector<double> y(g.y_size());
  cpu::avgpool_forward(g, x.data(), y.data());
  const auto want = naive_avgpool(g, x);
  ASSERT_EQ(want.size(), y.size());
  for (size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(y[i], want[i], 1e-15) << i;

  const auto r = random_values(g.y_size(), 42), dx0 = random_values(g.x_size(), 43);
  auto dx = dx0;
  cpu::avgpool_backward(g, r.data(), dx.data());
  const auto gx = testkit::difference(dx, dx0);
  auto loss = [&] {
    cpu::avgpool_forward(g, x.data(), y.data());
    return testkit::dot(r, y);
  };
  const testkit::ScopedThreads one_thread(1);
  const auto report = testkit::check_gradients(loss, {{"x", x, gx}});
  EXPECT_TRUE(report.ok()) << report.describe();
  EXPECT_EQ(report.checked, g.x_size());
}

INSTANTIATE_TEST_SUITE_P(Geometries, AvgPoolShapes,
                         ::testing::Values(pool_geom(1, 2, 7, 6, 3, 2, 0), pool_geom(1, 2, 8, 7, 3, 2, 1),
                                           pool_geom(2, 1, 6, 6, 2, 2, 0), pool_geom(1, 1, 9, 11, 5, 3, 2),
                                           pool_geom(1, 1, 3, 4, 3, 1, 1), pool_geom(2, 2, 5, 7, 3, 1, 1, true),
                                           pool_geom(1, 2, 8, 7, 3, 2, 1, true), pool_geom(1, 1, 9, 11, 5, 3, 2, true),
                                           pool_geom(1, 1, 3, 4, 3, 1, 1, true)),
                         [](const auto& info) {
                           const PoolGeom& g = info.param;
                           return cat_str("k", g.k, "s", g.stride, "p", g.pad, "_", g.h_in, "x", g.w_in,
                                          g.count_pad ? "_countpad" : "");
                         });

TEST(AvgPool, Gradient3x3Stride1Pad1) {
  const PoolGeom g = pool_geom(2, 2, 5, 7, 3, 1, 1);
  std::vector<double> x = random_values(g.x_size(), 11);
  const auto r = random_values(g.y_size(), 12);
  std::vector<double> y(g.y_size());
  auto loss = [&] {
    cpu::avgpool_forward(g, x.data(), y.data());
    return testkit::dot(r, y);
  };
  const auto dx0 = random_values(g.x_size(), 13);
  auto dx = dx0;
  cpu::avgpool_backward(g, r.data(), dx.data());
  const auto gx = testkit::difference(dx, dx0);
  const testkit::ScopedThreads one_thread(1);
  const auto report = testkit::check_gradients(loss, {{"x", x, gx}});
  EXPECT_TRUE(report.ok()) << report.describe();
  EXPECT_EQ(report.checked, g.x_size());
}

TEST(AvgPool, PaddingIsNeverCounted) {
  const PoolGeom g = pool_geom(1, 1, 4, 5, 3, 1, 1);
  std::vector<double> x(g.x_size());
  for (int64_t i = 0; i < g.x_size(); ++i) x[i] = static_cast<double>(i);
  std::vector<double> y(g.y_size());
  cpu::avgpool_forward(g, x.data(), y.data());
  EXPECT_DOUBLE_EQ(y[0], (0 + 1 + 5 + 6) / 4.0);                       // corner: 4 cells, not 9
  EXPECT_DOUBLE_EQ(y[1], (0 + 1 + 2 + 5 + 6 + 7) / 6.0);               // edge: 6 cells
  EXPECT_DOUBLE_EQ(y[6], (0 + 1 + 2 + 5 + 6 + 7 + 10 + 11 + 12) / 9.0);  // interior
  EXPECT_DOUBLE_EQ(y[19], (13 + 14 + 18 + 19) / 4.0);
  // All ones average to one everywhere, borders included.
  std::vector<float> ones(g.x_size(), 1.f), yf(g.y_size());
  cpu::avgpool_forward(g, ones.data(), yf.data());
  for (float v : yf) EXPECT_EQ(v, 1.f);
  // Backward hands the corner output's gradient out in quarters.
  std::vector<double> dy(g.y_size(), 0.0), dx(g.x_size(), 0.0);
  dy[0] = 1.0;
  cpu::avgpool_backward(g, dy.data(), dx.data());
  EXPECT_DOUBLE_EQ(dx[0], 0.25);
  EXPECT_DOUBLE_EQ(dx[6], 0.25);
  EXPECT_DOUBLE_EQ(dx[2], 0.0);
}

// timm's inception_v3 (F.avg_pool2d's default) divides by 9 everywhere, padded cells included.
TEST(AvgPool, PaddingCountedWhenAsked) {
  const PoolGeom g = pool_geom(1, 1, 4, 5, 3, 1, 1, true);
  std::vector<double> x(g.x_size());
  for (int64_t i = 0; i < g.x_size(); ++i) x[i] = static_cast<double>(i);
  std::vector<double> y(g.y_size());
  cpu::avgpool_forward(g, x.data(), y.data());
  EXPECT_DOUBLE_EQ(y[0], (0 + 1 + 5 + 6) / 9.0);
  EXPECT_DOUBLE_EQ(y[1], (0 + 1 + 2 + 5 + 6 + 7) / 9.0);
  EXPECT_DOUBLE_EQ(y[6], (0 + 1 + 2 + 5 + 6 + 7 + 10 + 11 + 12) / 9.0);
  EXPECT_DOUBLE_EQ(y[19], (13 + 14 + 18 + 19) / 9.0);
  std::vector<double> dy(g.y_size(), 0.0), dx(g.x_size(), 0.0);
  dy[0] = 1.0;
  cpu::avgpool_backward(g, dy.data(), dx.data());
  EXPECT_DOUBLE_EQ(dx[0], 1.0 / 9.0);
  EXPECT_DOUBLE_EQ(dx[6], 1.0 / 9.0);
  EXPECT_DOUBLE_EQ(dx[2], 0.0);
}

TEST(GlobalAvgPool, ValuesAndGradient) {
  const int64_t n = 2, c = 3, hw = 10;
  std::vector<double> x = random_values(n * c * hw, 21);
  std::vector<double> y(n * c);
  cpu::global_avgpool_forward(n, c, hw, x.data(), y.data());
  for (int64_t p = 0; p < n * c; ++p) {
    double s = 0;
    for (int64_t i = 0; i < hw; ++i) s += x[p * hw + i];
    EXPECT_NEAR(y[p], s / hw, 1e-15);
  }
  const auto r = random_values(n * c, 22), dx0 = random_values(n * c * hw, 23);
  auto dx = dx0;
  cpu::global_avgpool_backward(n, c, hw, r.data(), dx.data());
  const auto gx = testkit::difference(dx, dx0);
  auto loss = [&] {
    cpu::global_avgpool_forward(n, c, hw, x.data(), y.data());
    return testkit::dot(r, y);
  };
  const testkit::ScopedThreads one_thread(1);
  const auto report = testkit::check_gradients(loss, {{"x", x, gx}});
  EXPECT_TRUE(report.ok()) << report.describe();
}

struct PoolRun {
  std::vector<float> ymax, dxmax, yavg, dxavg;
};

PoolRun run_pools(const PoolGeom& g) {
  const auto x = testkit::cast_vec<float>(random_values(g.x_size(), 31));
  const auto dy = testkit::cast_vec<float>(random_values(g.y_size(), 32));
  PoolRun o{std::vector<float>(g.y_size()), std::vector<float>(g.x_size(), 0.f), std::vector<float>(g.y_size()),
            std::vector<float>(g.x_size(), 0.f)};
  std::vector<int32_t> am(g.y_size());
  cpu::maxpool_forward(g, x.data(), o.ymax.data(), am.data());
  cpu::maxpool_backward(g, dy.data(), am.data(), o.dxmax.data());
  cpu::avgpool_forward(g, x.data(), o.yavg.data());
  cpu::avgpool_backward(g, dy.data(), o.dxavg.data());
  return o;
}

// Narrow rows (scalar paths only), and rows wide enough for the vector max pool and the one-pass
// average pool.
TEST(Pool, BitIdenticalForAnyThreadCount) {
  for (const PoolGeom& g : {pool_geom(3, 5, 11, 9, 3, 2, 1), pool_geom(3, 5, 23, 40, 3, 2, 0),
                            pool_geom(3, 5, 13, 21, 3, 1, 1)}) {
    const PoolRun one = testkit::with_threads(1, [&] { return run_pools(g); });
    for (int threads : {2, 3}) {
      const PoolRun many = testkit::with_threads(threads, [&] { return run_pools(g); });
      EXPECT_TRUE(testkit::same_bits(one.ymax, many.ymax)) << threads;
      EXPECT_TRUE(testkit::same_bits(one.dxmax, many.dxmax)) << threads;
      EXPECT_TRUE(testkit::same_bits(one.yavg, many.yavg)) << threads;
      EXPECT_TRUE(testkit::same_bits(one.dxavg, many.dxavg)) << threads;
    }
  }
}

}  // namespace
}  // namespace thaw
