#include "kernels/cpu/linear.h"

#include <gtest/gtest.h>

#include <vector>

#include "tests/kernels/kernel_test_util.h"
#include "tests/support/gradcheck.h"

namespace thaw {
namespace {

using testkit::random_values;

TEST(Linear, ForwardMatchesDefinition) {
  const LinearGeom g{3, 7, 4};
  const auto x = random_values(g.n * g.in, 1), w = random_values(g.out * g.in, 2), b = random_values(g.out, 3);
  std::vector<double> y(g.n * g.out);
  cpu::linear_forward(g, x.data(), w.data(), b.data(), y.data());
  for (int64_t i = 0; i < g.n; ++i) {
    for (int64_t o = 0; o < g.out; ++o) {
      double s = b[o];
      for (int64_t j = 0; j < g.in; ++j) s += x[i * g.in + j] * w[o * g.in + j];
      EXPECT_NEAR(y[i * g.out + o], s, 1e-14);
    }
  }
}

TEST(Linear, GradientsMatchFiniteDifferences) {
  const LinearGeom g{3, 7, 4};
  std::vector<double> x = random_values(g.n * g.in, 11), w = random_values(g.out * g.in, 12),
                      b = random_values(g.out, 13);
  const auto r = random_values(g.n * g.out, 14);
  const auto dx0 = random_values(x.size(), 15), dw0 = random_values(w.size(), 16), db0 = random_values(b.size(), 17);
  auto dx = dx0, dw = dw0, db = db0;
  cpu::linear_backward(g, x.data(), w.data(), r.data(), dx.data(), dw.data(), db.data());
  const auto gx = testkit::difference(dx, dx0), gw = testkit::difference(dw, dw0), gb = testkit::difference(db, db0);
  std::vector<double> y(g.n * g.out);
  auto loss = [&] {
    cpu::linear_forward(g, x.data(), w.data(), b.data(), y.data());
    return testkit::dot(r, y);
  };
  const testkit::ScopedThreads one_thread(1);
  const auto report = testkit::check_gradients(loss, {{"x", x, gx}, {"w", w, gw}, {"b", b, gb}});
  EXPECT_TRUE(report.ok()) << report.describe();
  EXPECT_EQ(report.checked, static_cast<int64_t>(x.size() + w.size() + b.size()));

  // dx may be null; the weight gradients do not change.
  auto dw2 = dw0, db2 = db0;
  cpu::linear_backward(g, x.data(), w.data(), r.data(), static_cast<double*>(nullptr), dw2.data(), db2.data());
  EXPECT_TRUE(testkit::same_bits(dw2, dw));
  EXPECT_TRUE(testkit::same_bits(db2, db));
}

}  // namespace
}  // namespace thaw
