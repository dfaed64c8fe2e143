#include "core/philox.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

namespace thaw {
namespace {

// Known-answer vectors from the Random123 distribution (kat_vectors, philox4x32_10).
TEST(Philox, KnownAnswerZero) {
  const auto r = philox4x32_10({0, 0, 0, 0}, {0, 0});
  EXPECT_EQ(r[0], 0x6627e8d5u);
  EXPECT_EQ(r[1], 0xe169c58du);
  EXPECT_EQ(r[2], 0xbc57ac4cu);
  EXPECT_EQ(r[3], 0x9b00dbd8u);
}

TEST(Philox, KnownAnswerOnes) {
  const auto r = philox4x32_10({0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}, {0xffffffffu, 0xffffffffu});
  EXPECT_EQ(r[0], 0x408f276du);
  EXPECT_EQ(r[1], 0x41c83b0eu);
  EXPECT_EQ(r[2], 0xa20bc7c6u);
  EXPECT_EQ(r[3], 0x6d5451fdu);
}

TEST(CounterRng, StreamsDifferByEveryKeyPart) {
  const CounterRng base(7, RngPurpose::Dropout, 3, 4);
  EXPECT_NE(base.u32_at(0), CounterRng(8, RngPurpose::Dropout, 3, 4).u32_at(0));
  EXPECT_NE(base.u32_at(0), CounterRng(7, RngPurpose::Init, 3, 4).u32_at(0));
  EXPECT_NE(base.u32_at(0), CounterRng(7, RngPurpose::Dropout, 2, 4).u32_at(0));
  EXPECT_NE(base.u32_at(0), CounterRng(7, RngPurpose::Dropout, 3, 5).u32_at(0));
  EXPECT_EQ(base.u32_at(123), CounterRng(7, RngPurpose::Dropout, 3, 4).u32_at(123));
}

TEST(CounterRng, UniformAndNormalMoments) {
  const CounterRng rng(42, RngPurpose::Synthetic, 0, 0);
  const int n = 200000;
  double su = 0, sn = 0, sn2 = 0;
  for (int i = 0; i < n; ++i) {
    const double u = rng.uniform_double_at(i);
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    su += u;
    const double z = rng.normal_at(i);
    sn += z;
    sn2 += z * z;
  }
  EXPECT_NEAR(su / n, 0.5, 0.005);
  EXPECT_NEAR(sn / n, 0.0, 0.01);
  EXPECT_NEAR(sn2 / n, 1.0, 0.01);
}

}  // namespace
}  // namespace thaw
