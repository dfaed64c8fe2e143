// resample_rgb with an Orientation stores exactly the upright resample's values, moved: mirrored
// left-right, then top-bottom, then turned counter-clockwise (out(x, y) = in(size - 1 - y, x) per
// turn), for every combination; flips also on a non-square output.
#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "io/resample.h"
#include "tests/io/patterned_image.h"

namespace thaw {
namespace {

using testing::patterned_image;

// The oriented plane by definition, from the upright one.
std::vector<float> oriented(const std::vector<float>& up, int64_t w, int64_t h, const Orientation& o) {
  std::vector<float> cur = up;
  int64_t cw = w, ch = h;
  const auto at = [](std::vector<float>& v, int64_t c, int64_t x, int64_t y, int64_t ww, int64_t hh) -> float& {
    return v[static_cast<size_t>(c * ww * hh + y * ww + x)];
  };
  std::vector<float> next(up.size());
  for (int64_t c = 0; c < 3; ++c) {
    for (int64_t y = 0; y < ch; ++y) {
      for (int64_t x = 0; x < cw; ++x) {
        at(next, c, x, y, cw, ch) = at(cur, c, o.hflip ? cw - 1 - x : x, o.vflip ? ch - 1 - y : y, cw, ch);
      }
    }
  }
  cur = next;
  for (int t = 0; t < o.turns; ++t) {
    for (int64_t c = 0; c < 3; ++c) {
      for (int64_t y = 0; y < ch; ++y) {
        for (int64_t x = 0; x < cw; ++x) at(next, c, x, y, cw, ch) = at(cur, c, cw - 1 - y, x, cw, ch);
      }
    }
    cur = next;
  }
  return cur;
}

TEST(ResampleOrientation, EveryFlipAndTurnMovesTheUprightValues) {
  const Image img = patterned_image(37, 29);
  const Box box{3.5, 2.25, 30.0, 27.0};
  const int64_t n = 11;
  std::vector<float> up(3 * n * n), got(3 * n * n);
  resample_rgb(img, box, n, n, up.data());
  std::set<std::vector<float>> results;
  for (int turns = 0; turns < 4; ++turns) {
    for (bool h : {false, true}) {
      for (bool v : {false, true}) {
        const Orientation o{h, v, turns};
        resample_rgb(img, box, n, n, got.data(), o);
        EXPECT_EQ(got, oriented(up, n, n, o)) << "h " << h << " v " << v << " turns " << turns;
        results.insert(got);
      }
    }
  }
  EXPECT_EQ(results.size(), 8u);  // the 16 combinations are the square's 8 symmetries, each twice
}

TEST(ResampleOrientation, FlipsOnANonSquareOutput) {
  const Image img = patterned_image(40, 25);
  const Box box{0, 0, 40, 25};
  std::vector<float> up(3 * 13 * 7), got(3 * 13 * 7);
  resample_rgb(img, box, 13, 7, up.data());
  for (bool h : {false, true}) {
    for (bool v : {false, true}) {
      resample_rgb(img, box, 13, 7, got.data(), Orientation{h, v, 0});
      EXPECT_EQ(got, oriented(up, 13, 7, Orientation{h, v, 0}));
    }
  }
}

}  // namespace
}  // namespace thaw
