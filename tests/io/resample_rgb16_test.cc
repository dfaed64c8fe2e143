// resample_rgb on full-precision images (Image::rgb16, io/pixel_mapping.h): 257 * u gives exactly
// the floats of the 8-bit image u, and the bits below the 8-bit rounding still reach the output.
#include <gtest/gtest.h>

#include <vector>

#include "io/resample.h"
#include "tests/io/patterned_image.h"

namespace thaw {
namespace {

TEST(ResampleRgb16, TimesTwoFiftySevenIsTheEightBitImage) {
  const Image small = testing::patterned_image(37, 23);
  std::vector<uint16_t> wide(small.rgb.size());
  for (size_t i = 0; i < wide.size(); ++i) wide[i] = static_cast<uint16_t>(257 * small.rgb[i]);
  const Image big = image_from_rgb16(37, 23, wide);
  ASSERT_EQ(big.rgb, small.rgb);
  for (const Box& box : {Box{0, 0, 37, 23}, Box{3.5, 2.25, 30, 20}}) {
    for (const auto& [w, h] : {std::pair<int64_t, int64_t>{16, 11}, {50, 40}}) {
      std::vector<float> a(static_cast<size_t>(3 * w * h)), b(a.size());
      resample_rgb(small, box, w, h, a.data());
      resample_rgb(big, box, w, h, b.data());
      EXPECT_EQ(a, b) << w << "x" << h;
    }
  }
}

// A flat image of v (not a multiple of 257) resamples to v / 257 everywhere, not to its rounding.
TEST(ResampleRgb16, KeepsTheBitsBelowEightBits) {
  const uint16_t v = 1000;  // 3.891 grey levels; the 8-bit image holds 4
  const Image flat = image_from_rgb16(9, 7, std::vector<uint16_t>(9 * 7 * 3, v));
  EXPECT_EQ(flat.rgb[0], 4);
  std::vector<float> out(3 * 5 * 4);
  resample_rgb(flat, Box{0, 0, 9, 7}, 5, 4, out.data());
  for (float x : out) EXPECT_NEAR(x, 1000.0 / 257.0, 1e-5);
}

}  // namespace
}  // namespace thaw
