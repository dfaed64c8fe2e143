// core/bf16.h against the definition of round-to-nearest-even, worked out in double arithmetic
// (every bf16 value and every float is exact in a double), over a stride through all 2^32 bit
// patterns, and on the cases where rounding carries or ties.
#include "core/bf16.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

namespace thaw {
namespace {

// The nearest bf16 to a finite v, ties to the even 16-bit pattern; beyond the largest bf16 by half
// a unit or more: infinity (IEEE's overflow rule).
float nearest_bf16(float v) {
  const uint32_t u = std::bit_cast<uint32_t>(v);
  const float down = std::bit_cast<float>(u & 0xffff0000u);  // toward zero
  const uint32_t up_bits = (u & 0xffff0000u) + 0x10000u;     // away from zero (may reach infinity)
  const float up = std::bit_cast<float>(up_bits);
  if (down == v) return v;
  const double dd = std::fabs(static_cast<double>(v) - down);
  double du;
  if (std::isinf(up)) {
    // The unit above the largest bf16 is where infinity would be if the exponent went on.
    const double ulp = std::ldexp(1.0, 127 - 7);
    du = std::fabs(std::fabs(static_cast<double>(down)) + ulp - std::fabs(static_cast<double>(v)));
  } else {
    du = std::fabs(static_cast<double>(up) - v);
  }
  if (dd < du) return down;
  if (du < dd) return up;
  return ((u >> 16) & 1u) == 0 ? down : up;
}

TEST(Bf16, MatchesRoundToNearestEvenOnAStrideOfAllFloats) {
  int64_t checked = 0;
  for (uint64_t b = 0; b < (uint64_t{1} << 32); b += 251) {  // odd stride: every low-bit pattern occurs
    const float v = std::bit_cast<float>(static_cast<uint32_t>(b));
    if (std::isnan(v)) continue;
    const float got = round_to_bf16(v), want = nearest_bf16(v);
    ASSERT_EQ(std::bit_cast<uint32_t>(got), std::bit_cast<uint32_t>(want)) << "bits 0x" << std::hex << b;
    ++checked;
  }
  EXPECT_GT(checked, 16'000'000);
}

TEST(Bf16, TiesGoToTheEvenNeighbour) {
  EXPECT_EQ(round_to_bf16(1.0f + 0x1p-8f), 1.0f);                  // halfway, 1.0 is even
  EXPECT_EQ(round_to_bf16(1.0f + 3 * 0x1p-8f), 1.0f + 0x1p-6f);   // halfway, the upper is even
  EXPECT_EQ(round_to_bf16(1.0f + 0x1p-8f + 0x1p-20f), 1.0f + 0x1p-7f);  // just above halfway
  EXPECT_EQ(round_to_bf16(-(1.0f + 0x1p-8f)), -1.0f);
}

TEST(Bf16, CarriesIntoTheExponentAndOverflowsToInfinity) {
  EXPECT_EQ(round_to_bf16(std::nextafter(2.0f, 0.0f)), 2.0f);
  EXPECT_EQ(round_to_bf16(std::numeric_limits<float>::max()), std::numeric_limits<float>::infinity());
  EXPECT_EQ(round_to_bf16(-std::numeric_limits<float>::max()), -std::numeric_limits<float>::infinity());
  EXPECT_EQ(round_to_bf16(std::numeric_limits<float>::infinity()), std::numeric_limits<float>::infinity());
}

TEST(Bf16, KeepsSignedZeroSubnormalsAndNaN) {
  EXPECT_EQ(std::bit_cast<uint32_t>(round_to_bf16(-0.0f)), 0x80000000u);
  EXPECT_EQ(std::bit_cast<uint32_t>(round_to_bf16(std::bit_cast<float>(0x00000001u))), 0u);
  EXPECT_EQ(std::bit_cast<uint32_t>(round_to_bf16(std::bit_cast<float>(0x00018000u))), 0x00020000u);  // tie up to even
  // A NaN whose payload lies only in the low bits would become infinity if rounded as a number.
  const float nan_low = std::bit_cast<float>(0x7f800001u);
  EXPECT_TRUE(std::isnan(round_to_bf16(nan_low)));
  EXPECT_TRUE(std::isnan(round_to_bf16(std::bit_cast<float>(0xffffffffu))));
  EXPECT_TRUE(std::signbit(round_to_bf16(std::bit_cast<float>(0xffc00001u))));
}

TEST(Bf16, BitsRoundTrip) {
  for (uint32_t bits = 0; bits < 0x10000u; ++bits) {
    const float v = bf16_value(static_cast<uint16_t>(bits));
    if (std::isnan(v)) continue;
    ASSERT_TRUE(is_bf16(v));
    ASSERT_EQ(bf16_bits(v), bits);
  }
  EXPECT_FALSE(is_bf16(1.0f + 0x1p-10f));
}

}  // namespace
}  // namespace thaw
