#include "kernels/cpu/conv2d.h"

#include <gtest/gtest.h>

#include <cmath>
#include <ostream>
#include <string>
#include <vector>

#include "tests/kernels/kernel_test_util.h"
#include "tests/support/gradcheck.h"

namespace thaw {
namespace {

using testkit::cast_vec;
using testkit::random_values;

// Independent references: the textbook seven loops, in double, written as gathers/scatters over
// the definition y[n,o,i,j] = sum_{c,a,b} x[n, c, i*sh - ph + a, j*sw - pw + b] * w[o, c, a, b].
template <typename Visit>
void for_each_tap(const ConvGeom& g, Visit&& visit) {
  const int64_t ho = g.h_out(), wo = g.w_out();
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t o = 0; o < g.c_out; ++o)
      for (int64_t i = 0; i < ho; ++i)
        for (int64_t j = 0; j < wo; ++j)
          for (int64_t c = 0; c < g.c_in; ++c)
            for (int64_t a = 0; a < g.kh; ++a)
              for (int64_t b = 0; b < g.kw; ++b) {
                const int64_t ih = i * g.sh - g.ph + a, iw = j * g.sw - g.pw + b;
                if (ih < 0 || ih >= g.h_in || iw < 0 || iw >= g.w_in) continue;
                visit(((n * g.c_in + c) * g.h_in + ih) * g.w_in + iw, ((o * g.c_in + c) * g.kh + a) * g.kw + b,
                      ((n * g.c_out + o) * ho + i) * wo + j);
              }
}

std::vector<double> naive_forward(const ConvGeom& g, const std::vector<double>& x, const std::vector<double>& w) {
  std::vector<double> y(g.y_size(), 0.0);
  for_each_tap(g, [&](int64_t xi, int64_t wi, int64_t yi) { y[yi] += x[xi] * w[wi]; });
  return y;
}
std::vector<double> naive_backward_data(const ConvGeom& g, const std::vector<double>& dy,
                                        const std::vector<double>& w) {
  std::vector<double> dx(g.x_size(), 0.0);
  for_each_tap(g, [&](int64_t xi, int64_t wi, int64_t yi) { dx[xi] += dy[yi] * w[wi]; });
  return dx;
}
std::vector<double> naive_backward_weight(const ConvGeom& g, const std::vector<double>& x,
                                          const std::vector<double>& dy) {
  std::vector<double> dw(g.w_size(), 0.0);
  for_each_tap(g, [&](int64_t xi, int64_t wi, int64_t yi) { dw[wi] += x[xi] * dy[yi]; });
  return dw;
}

std::vector<double> abs_vec(std::vector<double> v) {
  for (double& e : v) e = std::abs(e);
  return v;
}

struct ConvCase {
  std::string name;
  ConvGeom g;
};

void PrintTo(const ConvCase& c, std::ostream* os) {
  const ConvGeom& g = c.g;
  *os << c.name << " n" << g.n << " " << g.c_in << "x" << g.h_in << "x" << g.w_in << " -> " << g.c_out << " k"
      << g.kh << "x" << g.kw << " s" << g.sh << "x" << g.sw << " p" << g.ph << "x" << g.pw;
}

ConvGeom geom(int64_t n, int64_t ci, int64_t h, int64_t w, int64_t co, int64_t kh, int64_t kw, int64_t s,
              int64_t ph, int64_t pw) {
  ConvGeom g;
  g.n = n, g.c_in = ci, g.h_in = h, g.w_in = w, g.c_out = co, g.kh = kh, g.kw = kw;
  g.sh = g.sw = s, g.ph = ph, g.pw = pw;
  return g;
}

// Kernel shapes Inception v4 uses, on tiny odd and non-square inputs.
const std::vector<ConvCase> kGradCases = {
    {"k1x1_s1_direct", geom(2, 3, 5, 6, 4, 1, 1, 1, 0, 0)},
    {"k1x1_s2", geom(2, 3, 7, 6, 4, 1, 1, 2, 0, 0)},
    {"k3x3_s1_p1", geom(2, 3, 7, 5, 4, 3, 3, 1, 1, 1)},
    {"k3x3_s1_p0", geom(2, 3, 6, 7, 4, 3, 3, 1, 0, 0)},
    {"k3x3_s2_p0", geom(2, 3, 9, 8, 4, 3, 3, 2, 0, 0)},
    {"k3x3_s2_p1", geom(1, 3, 8, 7, 5, 3, 3, 2, 1, 1)},
    {"k1x7_p03", geom(2, 2, 5, 9, 3, 1, 7, 1, 0, 3)},
    {"k7x1_p30", geom(2, 2, 9, 5, 3, 7, 1, 1, 3, 0)},
    {"k1x3_p01", geom(2, 3, 4, 6, 4, 1, 3, 1, 0, 1)},
    {"k3x1_p10", geom(2, 3, 6, 4, 4, 3, 1, 1, 1, 0)},
    {"k1x7_s2_unpadded", geom(1, 2, 5, 11, 3, 1, 7, 2, 0, 0)},
};

class ConvGrad : public ::testing::TestWithParam<ConvCase> {};

TEST_P(ConvGrad, MatchesFiniteDifferences) {
  const ConvGeom g = GetParam().g;
  std::vector<double> x = random_values(g.x_size(), 1), w = random_values(g.w_size(), 2);
  const std::vector<double> r = random_values(g.y_size(), 3);
  // Backward accumulates: start from non-zero gradients and judge only the increment.
  const std::vector<double> dx0 = random_values(g.x_size(), 4), dw0 = random_values(g.w_size(), 5);
  std::vector<double> dx = dx0, dw = dw0;
  cpu::conv2d_backward_data(g, r.data(), w.data(), dx.data());
  cpu::conv2d_backward_weight(g, x.data(), r.data(), dw.data());
  const std::vector<double> gx = testkit::difference(dx, dx0), gw = testkit::difference(dw, dw0);

  std::vector<double> y(g.y_size());
  auto loss = [&] {
    cpu::conv2d_forward(g, x.data(), w.data(), y.data());
    return testkit::dot(r, y);
  };
  const testkit::ScopedThreads one_thread(1);
  const auto report = testkit::check_gradients(loss, {{"x", x, gx}, {"w", w, gw}});
  EXPECT_TRUE(report.ok()) << report.describe();
  EXPECT_EQ(report.checked, g.x_size() + g.w_size());
}

INSTANTIATE_TEST_SUITE_P(Shapes, ConvGrad, ::testing::ValuesIn(kGradCases),
                         [](const auto& info) { return info.param.name; });

// Shapes large enough for the blocked GEMM path, several row bands per sample (the column
// matrix is cut near 2^17 elements), several backward-weight sample groups (8 samples each) and,
// from K = 1024, backward weight by column slices (128 wide), compared with the seven-loop
// reference.
const std::vector<ConvCase> kRefCases = {
    {"k3x3_p1_bands_groups", geom(9, 64, 24, 23, 6, 3, 3, 1, 1, 1)},
    {"k3x3_wide_k_slices", geom(2, 120, 6, 5, 10, 3, 3, 1, 1, 1)},
    {"k3x3_small_map_many_samples", geom(37, 20, 3, 3, 50, 3, 3, 1, 1, 1)},
    {"k1x1_one_position_many_samples", geom(70, 64, 1, 1, 100, 1, 1, 1, 0, 0)},
    {"k1x1_direct_slices", geom(2, 1100, 4, 3, 5, 1, 1, 1, 0, 0)},
    {"k3x3_p1_wide", geom(3, 40, 9, 11, 70, 3, 3, 1, 1, 1)},
    {"k1x1_direct", geom(3, 300, 5, 4, 40, 1, 1, 1, 0, 0)},
    {"k3x3_s2_p0", geom(2, 12, 15, 13, 33, 3, 3, 2, 0, 0)},
    {"k1x7_p03", geom(2, 30, 9, 8, 36, 1, 7, 1, 0, 3)},
    {"k7x1_p30", geom(2, 30, 8, 9, 36, 7, 1, 1, 3, 0)},
};

class ConvRef : public ::testing::TestWithParam<ConvCase> {};

// |got - want| <= tol * (the same op applied to |inputs|): rounding in a sum of products is
// bounded by the sum of the products' magnitudes.
void expect_close_scaled(const std::vector<double>& got, const std::vector<double>& want,
                         const std::vector<double>& scale, double tol, const char* what) {
  ASSERT_EQ(got.size(), want.size());
  int64_t bad = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (!(std::abs(got[i] - want[i]) <= tol * scale[i] + 1e-300)) {
      if (++bad <= 5) ADD_FAILURE() << what << "[" << i << "]: got " << got[i] << " want " << want[i];
    }
  }
  EXPECT_EQ(bad, 0) << what;
}

TEST_P(ConvRef, DoubleMatchesSevenLoopReference) {
  const ConvGeom g = GetParam().g;
  const std::vector<double> x = random_values(g.x_size(), 11), w = random_values(g.w_size(), 12);
  const std::vector<double> dy = random_values(g.y_size(), 13);
  std::vector<double> y(g.y_size()), dx(g.x_size(), 0.0), dw(g.w_size(), 0.0);
  cpu::conv2d_forward(g, x.data(), w.data(), y.data());
  cpu::conv2d_backward_data(g, dy.data(), w.data(), dx.data());
  cpu::conv2d_backward_weight(g, x.data(), dy.data(), dw.data());
  const double tol = 1e-13;
  expect_close_scaled(y, naive_forward(g, x, w), naive_forward(g, abs_vec(x), abs_vec(w)), tol, "y");
  expect_close_scaled(dx, naive_backward_data(g, dy, w), naive_backward_data(g, abs_vec(dy), abs_vec(w)), tol, "dx");
  expect_close_scaled(dw, naive_backward_weight(g, x, dy), naive_backward_weight(g, abs_vec(x), abs_vec(dy)), tol,
                      "dw");
}

// Float agrees with double within 1e-5 of the magnitude sum: |f - d| <= 1e-5 * (|op|(|a|, |b|)),
// about 170 float epsilons, enough for K up to a few hundred terms summed in blocks.
TEST_P(ConvRef, FloatAgreesWithDouble) {
  const ConvGeom g = GetParam().g;
  const std::vector<double> x = random_values(g.x_size(), 21), w = random_values(g.w_size(), 22);
  const std::vector<double> dy = random_values(g.y_size(), 23);
  const auto xf = cast_vec<float>(x), wf = cast_vec<float>(w), dyf = cast_vec<float>(dy);
  std::vector<float> y(g.y_size()), dx(g.x_size(), 0.f), dw(g.w_size(), 0.f);
  cpu::conv2d_forward(g, xf.data(), wf.data(), y.data());
  cpu::conv2d_backward_data(g, dyf.data(), wf.data(), dx.data());
  cpu::conv2d_backward_weight(g, xf.data(), dyf.data(), dw.data());
  std::vector<double> yd(g.y_size()), dxd(g.x_size(), 0.0), dwd(g.w_size(), 0.0);
  cpu::conv2d_forward(g, x.data(), w.data(), yd.data());
  cpu::conv2d_backward_data(g, dy.data(), w.data(), dxd.data());
  cpu::conv2d_backward_weight(g, x.data(), dy.data(), dwd.data());
  const double tol = 1e-5;
  expect_close_scaled({y.begin(), y.end()}, yd, naive_forward(g, abs_vec(x), abs_vec(w)), tol, "y");
  expect_close_scaled({dx.begin(), dx.end()}, dxd, naive_backward_data(g, abs_vec(dy), abs_vec(w)), tol, "dx");
  expect_close_scaled({dw.begin(), dw.end()}, dwd, naive_backward_weight(g, abs_vec(x), abs_vec(dy)), tol, "dw");
}

INSTANTIATE_TEST_SUITE_P(Shapes, ConvRef, ::testing::ValuesIn(kRefCases),
                         [](const auto& info) { return info.param.name; });

struct ConvOutputs {
  std::vector<float> y, dx, dw;
};

ConvOutputs run_all(const ConvGeom& g) {
  const auto x = cast_vec<float>(random_values(g.x_size(), 31));
  const auto w = cast_vec<float>(random_values(g.w_size(), 32));
  const auto dy = cast_vec<float>(random_values(g.y_size(), 33));
  ConvOutputs o{std::vector<float>(g.y_size()), cast_vec<float>(random_values(g.x_size(), 34)),
                cast_vec<float>(random_values(g.w_size(), 35))};
  cpu::conv2d_forward(g, x.data(), w.data(), o.y.data());
  cpu::conv2d_backward_data(g, dy.data(), w.data(), o.dx.data());
  cpu::conv2d_backward_weight(g, x.data(), dy.data(), o.dw.data());
  return o;
}

TEST_P(ConvRef, BitIdenticalForAnyThreadCount) {
  const ConvGeom g = GetParam().g;
  const ConvOutputs one = testkit::with_threads(1, [&] { return run_all(g); });
  for (int threads : {2, 3}) {
    const ConvOutputs many = testkit::with_threads(threads, [&] { return run_all(g); });
    EXPECT_TRUE(testkit::same_bits(one.y, many.y)) << "forward, " << threads << " threads";
    EXPECT_TRUE(testkit::same_bits(one.dx, many.dx)) << "backward data, " << threads << " threads";
    EXPECT_TRUE(testkit::same_bits(one.dw, many.dw)) << "backward weight, " << threads << " threads";
  }
}

// Float convolutions of small maps put several samples side by side in one product
// (kernels/cpu/conv2d_grouped.h): a sample's output and input gradient must still have the bits of
// that sample convolved alone, so that nothing (the feature cache, evaluation batches) depends on
// which samples share a batch.
TEST_P(ConvRef, ASamplesBitsDoNotDependOnTheBatch) {
  const ConvGeom g = GetParam().g;
  const auto x = cast_vec<float>(random_values(g.x_size(), 41));
  const auto w = cast_vec<float>(random_values(g.w_size(), 42));
  const auto dy = cast_vec<float>(random_values(g.y_size(), 43));
  std::vector<float> y(g.y_size()), dx(g.x_size(), 0.f);
  cpu::conv2d_forward(g, x.data(), w.data(), y.data());
  cpu::conv2d_backward_data(g, dy.data(), w.data(), dx.data());
  ConvGeom one = g;
  one.n = 1;
  const int64_t xs = one.x_size(), ys = one.y_size();
  for (int64_t n = 0; n < g.n; ++n) {
    std::vector<float> y1(ys), dx1(xs, 0.f);
    cpu::conv2d_forward(one, x.data() + n * xs, w.data(), y1.data());
    cpu::conv2d_backward_data(one, dy.data() + n * ys, w.data(), dx1.data());
    EXPECT_TRUE(testkit::same_bits(y1, std::vector<float>(y.begin() + n * ys, y.begin() + (n + 1) * ys)))
        << "forward, sample " << n;
    EXPECT_TRUE(testkit::same_bits(dx1, std::vector<float>(dx.begin() + n * xs, dx.begin() + (n + 1) * xs)))
        << "backward data, sample " << n;
  }
}

TEST(Conv2d, PaddedCornerSeesOnlyInsideTaps) {
  // 1 input channel of ones, a 3x3 kernel of ones, pad 1: a corner output covers 4 cells.
  const ConvGeom g = geom(1, 1, 4, 5, 1, 3, 3, 1, 1, 1);
  const std::vector<float> x(g.x_size(), 1.f), w(g.w_size(), 1.f);
  std::vector<float> y(g.y_size());
  cpu::conv2d_forward(g, x.data(), w.data(), y.data());
  EXPECT_EQ(y[0], 4.f);
  EXPECT_EQ(y[1], 6.f);
  EXPECT_EQ(y[6], 9.f);
  EXPECT_EQ(y[g.y_size() - 1], 4.f);
}

}  // namespace
}  // namespace thaw
