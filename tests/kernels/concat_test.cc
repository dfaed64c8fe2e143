#include "kernels/cpu/concat.h"

#include <gtest/gtest.h>

#include <vector>

#include "tests/kernels/kernel_test_util.h"
#include "tests/support/gradcheck.h"

namespace thaw {
namespace {

using testkit::random_values;

TEST(Concat, ForwardLayoutAndGradient) {
  const int64_t n = 2, hw = 5;
  const std::vector<int64_t> cs = {2, 1, 3};
  const int64_t c_total = 6;
  std::vector<double> a = random_values(n * 2 * hw, 1), b = random_values(n * 1 * hw, 2),
                      c = random_values(n * 3 * hw, 3);
  std::vector<double> y(n * c_total * hw);
  auto forward = [&] {
    cpu::concat_forward<double>(n, hw, {{a.data(), 2}, {b.data(), 1}, {c.data(), 3}}, y.data());
  };
  forward();
  for (int64_t s = 0; s < n; ++s) {
    for (int64_t i = 0; i < hw; ++i) {
      EXPECT_EQ(y[(s * c_total + 1) * hw + i], a[(s * 2 + 1) * hw + i]);
      EXPECT_EQ(y[(s * c_total + 2) * hw + i], b[s * hw + i]);
      EXPECT_EQ(y[(s * c_total + 5) * hw + i], c[(s * 3 + 2) * hw + i]);
    }
  }

  const auto r = random_values(y.size(), 4);
  const auto da0 = random_values(a.size(), 5), db0 = random_values(b.size(), 6), dc0 = random_values(c.size(), 7);
  auto da = da0, db = db0, dc = dc0;
  cpu::concat_backward<double>(n, hw, r.data(), {{da.data(), 2}, {db.data(), 1}, {dc.data(), 3}});
  const auto ga = testkit::difference(da, da0), gb = testkit::difference(db, db0), gc = testkit::difference(dc, dc0);
  auto loss = [&] {
    forward();
    return testkit::dot(r, y);
  };
  const testkit::ScopedThreads one_thread(1);
  const auto report = testkit::check_gradients(loss, {{"a", a, ga}, {"b", b, gb}, {"c", c, gc}});
  EXPECT_TRUE(report.ok()) << report.describe();
  EXPECT_EQ(report.checked, static_cast<int64_t>(a.size() + b.size() + c.size()));

  // A null input is skipped; the others still receive their slices.
  auto dc_only = dc0;
  cpu::concat_backward<double>(n, hw, r.data(), {{nullptr, 2}, {nullptr, 1}, {dc_only.data(), 3}});
  EXPECT_TRUE(testkit::same_bits(dc_only, dc));
}

}  // namespace
}  // namespace thaw
