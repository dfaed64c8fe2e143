// Resampling and preprocessing: the antialiased bilinear filter against PIL's, evaluation boxes
// against timm's resize-then-centre-crop arithmetic, and the random-resized crop's guarantees.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "io/augment.h"
#include "io/image_decode.h"
#include "io/resample.h"
#include "tests/io/io_test_support.h"

namespace thaw {
namespace {

using testing::run_python;
using testing::ScratchDir;
using testing::slurp;
using testing::user_error_of;

Image pattern(int64_t w, int64_t h) {
  Image img;
  img.width = w;
  img.height = h;
  img.rgb.resize(static_cast<size_t>(w * h * 3));
  for (int64_t y = 0; y < h; ++y) {
    for (int64_t x = 0; x < w; ++x) {
      uint8_t* p = img.rgb.data() + (y * w + x) * 3;
      p[0] = static_cast<uint8_t>((x * 37 + y * 11) % 256);
      p[1] = static_cast<uint8_t>((x * x + 3 * y) % 256);
      p[2] = static_cast<uint8_t>(((x ^ y) * 29) % 256);
    }
  }
  return img;
}

constexpr const char* kPilResize = R"PY(
import numpy as np
from PIL import Image
rng = np.random.default_rng(3)
src = rng.integers(0, 256, size=(23, 37, 3), dtype=np.uint8)
src.tofile("src.rgb")
img = Image.fromarray(src)
img.resize((17, 11), Image.BILINEAR, box=(2.5, 1.0, 30.0, 20.5)).save("down.png")
img.resize((50, 40), Image.BILINEAR).save("up.png")
img.resize((9, 31), Image.BILINEAR, box=(0, 0, 37, 23)).save("mixed.png")
)PY";

TEST(Resample, MatchesPilBilinearWithin1) {
  THAW_REQUIRE_PYTHON("numpy, PIL");
  ScratchDir dir;
  ASSERT_EQ(run_python(dir, kPilResize), 0);
  const std::string raw = slurp(dir / "src.rgb");
  Image src;
  src.width = 37;
  src.height = 23;
  src.rgb.assign(raw.begin(), raw.end());
  const struct {
    const char* file;
    Box box;
  } cases[] = {{"down.png", {2.5, 1.0, 30.0, 20.5}}, {"up.png", {0, 0, 37, 23}}, {"mixed.png", {0, 0, 37, 23}}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.file);
    const Image want = read_image(dir / c.file);
    std::vector<float> got(static_cast<size_t>(3 * want.width * want.height));
    resample_rgb(src, c.box, want.width, want.height, got.data());
    const int64_t plane = want.width * want.height;
    double worst = 0;
    for (int64_t i = 0; i < plane; ++i) {
      for (int64_t ch = 0; ch < 3; ++ch) {
        worst = std::max(worst, std::abs(double(want.rgb[3 * i + ch]) - got[ch * plane + i]));
      }
    }
    // PIL rounds to uint8 (0.5) and uses fixed-point weights; ours is float and unrounded.
    EXPECT_LE(worst, 1.0);
  }
}

TEST(Resample, BoxEqualsResizeThenCrop) {
  const Image img = pattern(61, 45);
  // Resize the whole image to 80 x 59, then crop [7, 7 + 40) x [5, 5 + 30).
  std::vector<float> whole(3 * 80 * 59), boxed(3 * 40 * 30);
  resample_rgb(img, {0, 0, 61, 45}, 80, 59, whole.data());
  const double sx = 61.0 / 80, sy = 45.0 / 59;
  resample_rgb(img, {7 * sx, 5 * sy, 47 * sx, 35 * sy}, 40, 30, boxed.data());
  double worst = 0;
  for (int c = 0; c < 3; ++c) {
    for (int y = 0; y < 30; ++y) {
      for (int x = 0; x < 40; ++x) {
        worst = std::max(worst, double(std::abs(boxed[(c * 30 + y) * 40 + x] - whole[(c * 59 + y + 5) * 80 + x + 7])));
      }
    }
  }
  EXPECT_LT(worst, 1e-3);
}

TEST(EvalPreprocessing, ShorterSideAndCentreCropAsTimm) {
  EXPECT_EQ(eval_resize_short_side(299), 341);  // timm: floor(299 / 0.875)
  EXPECT_EQ(eval_resize_short_side(224), 256);
  EXPECT_EQ(eval_resize_short_side(75), 85);
  // 256 x 256 at 299: resize to 341 x 341, crop from 21 (round(42 / 2)).
  const Box sq = eval_box(256, 256, 299);
  EXPECT_NEAR(sq.x0, 21 * 256.0 / 341, 1e-12);
  EXPECT_NEAR(sq.x1, 320 * 256.0 / 341, 1e-12);
  EXPECT_NEAR(sq.y0, sq.x0, 1e-12);
  // 1022 x 767 (landscape): 341 high, int(341 * 1022 / 767) = 454 wide; left round(155 / 2) = 78
  // (half to even), top round(42 / 2) = 21.
  const Box land = eval_box(1022, 767, 299);
  EXPECT_NEAR(land.x0, 78 * 1022.0 / 454, 1e-9);
  EXPECT_NEAR(land.x1, 377 * 1022.0 / 454, 1e-9);
  EXPECT_NEAR(land.y0, 21 * 767.0 / 341, 1e-9);
  EXPECT_NEAR(land.y1, 320 * 767.0 / 341, 1e-9);
  // Portrait 300 x 500 at 224: 256 wide, int(256 * 500 / 300) = 426 high; top 101.
  const Box port = eval_box(300, 500, 224);
  EXPECT_NEAR(port.x0, 16 * 300.0 / 256, 1e-9);
  EXPECT_NEAR(port.y0, 101 * 500.0 / 426, 1e-9);
  EXPECT_NEAR(port.y1, 325 * 500.0 / 426, 1e-9);

  // The input is 3 x size x size, normalised: a flat grey 51 becomes 51 / 255 * 2 - 1 = -0.6.
  Image grey;
  grey.width = 97;
  grey.height = 64;
  grey.rgb.assign(97 * 64 * 3, 51);
  std::vector<float> x(3 * 80 * 80);
  preprocess_eval(grey, 80, x.data());
  for (float v : x) ASSERT_NEAR(v, -0.6f, 1e-6f);
}

TEST(RandomResizedCrop, CropsLieInsideWithScaleAndRatioInRange) {
  AugmentConfig cfg;
  int fallbacks = 0;
  for (uint32_t i = 0; i < 2000; ++i) {
    const CounterRng rng(5, RngPurpose::Augment, 0, i);
    const int64_t w = 100 + i % 300, h = 80 + (i * 7) % 250;
    const Box b = random_resized_crop(w, h, cfg, rng);
    ASSERT_GE(b.x0, 0);
    ASSERT_GE(b.y0, 0);
    ASSERT_LE(b.x1, w);
    ASSERT_LE(b.y1, h);
    ASSERT_EQ(b.x0, std::floor(b.x0));  // integer pixel boxes, as torchvision's
    const double cw = b.x1 - b.x0, ch = b.y1 - b.y0;
    const double area = cw * ch / double(w * h), ratio = cw / ch;
    if (area > 0.999 && (ratio < 0.74 || ratio > 1.34)) {
      ++fallbacks;
      continue;
    }
    // Rounding to whole pixels moves the fractions a little past the drawn ones.
    EXPECT_GE(area, 0.08 * 0.9) << i;
    EXPECT_LE(area, 1.0) << i;
    EXPECT_GE(ratio, 0.75 * 0.9) << i;
    EXPECT_LE(ratio, 4.0 / 3.0 * 1.1) << i;
  }
  EXPECT_LT(fallbacks, 100);
  cfg.scale_min = 0.5;
  cfg.scale_max = 0.5;
  cfg.ratio_min = cfg.ratio_max = 1.0;
  const Box b = random_resized_crop(400, 400, cfg, CounterRng(1, RngPurpose::Augment, 0, 0));
  EXPECT_EQ(b.x1 - b.x0, 283);  // round(sqrt(80000))
  EXPECT_EQ(b.y1 - b.y0, 283);
}

TEST(Augment, FlagsOutOfRangeAreUserErrors) {
  AugmentConfig c;
  c.scale_min = 0;
  EXPECT_THAT(user_error_of([&] { validate_augment(c); }), ::testing::HasSubstr("--rrc-scale"));
  c = {};
  c.ratio_min = 2;
  EXPECT_THAT(user_error_of([&] { validate_augment(c); }), ::testing::HasSubstr("--rrc-ratio"));
  c = {};
  c.brightness = 1.5;
  EXPECT_THAT(user_error_of([&] { validate_augment(c); }), ::testing::HasSubstr("--brightness"));
  c = {};
  c.contrast = -0.1;
  EXPECT_THAT(user_error_of([&] { validate_augment(c); }), ::testing::HasSubstr("--contrast"));
}

TEST(Augment, SameKeySamePixelsOtherKeysOtherPixels) {
  const Image img = pattern(120, 90);
  const AugmentConfig cfg;
  const int64_t s = 48, n = 3 * s * s;
  auto run = [&](uint64_t seed, uint32_t epoch, uint32_t sample) {
    std::vector<float> x(static_cast<size_t>(n));
    preprocess_train(img, s, cfg, CounterRng(seed, RngPurpose::Augment, epoch, sample), x.data());
    return x;
  };
  const std::vector<float> a = run(9, 2, 17);
  EXPECT_EQ(a, run(9, 2, 17));
  EXPECT_NE(a, run(9, 3, 17));
  EXPECT_NE(a, run(9, 2, 18));
  EXPECT_NE(a, run(10, 2, 17));
  for (float v : a) {
    ASSERT_GE(v, -1.0f);
    ASSERT_LE(v, 1.0f);
  }
}

TEST(Augment, FlipsAndQuarterTurnsAllOccur) {
  // With no crop (scale 1, ratio 1 on a square) and no jitter, the training input is one of the 8
  // symmetries of the evaluation-free resample; each should appear over a few hundred samples.
  Image img = pattern(32, 32);
  AugmentConfig cfg;
  cfg.scale_min = cfg.scale_max = 1.0;
  cfg.ratio_min = cfg.ratio_max = 1.0;
  cfg.brightness = cfg.contrast = 0;
  std::vector<float> base(3 * 32 * 32);
  resample_rgb(img, {0, 0, 32, 32}, 32, 32, base.data());
  auto at = [&](int c, int x, int y) { return (base[(c * 32 + y) * 32 + x] / 255.0f - 0.5f) / 0.5f; };
  std::vector<int> seen(8, 0);
  for (uint32_t i = 0; i < 400; ++i) {
    std::vector<float> x(3 * 32 * 32);
    preprocess_train(img, 32, cfg, CounterRng(2, RngPurpose::Augment, 0, i), x.data());
    int which = -1;
    for (int t = 0; t < 8 && which < 0; ++t) {
      bool same = true;
      for (int c = 0; c < 3 && same; ++c) {
        for (int y = 0; y < 32 && same; ++y) {
          for (int xx = 0; xx < 32 && same; ++xx) {
            // Symmetry t: optional transpose (t & 4), then mirror x (t & 1), mirror y (t & 2).
            int sx = (t & 4) ? y : xx, sy = (t & 4) ? xx : y;
            if (t & 1) sx = 31 - sx;
            if (t & 2) sy = 31 - sy;
            same = x[(c * 32 + y) * 32 + xx] == at(c, sx, sy);
          }
        }
      }
      if (same) which = t;
    }
    ASSERT_GE(which, 0) << "sample " << i << " is not a symmetry of the image";
    ++seen[which];
  }
  for (int t = 0; t < 8; ++t) EXPECT_GT(seen[t], 20) << t;
}

TEST(Augment, DecodeTargetForTraining) {
  AugmentConfig cfg;
  EXPECT_EQ(decode_min_short_side(299, false, cfg), 341);
  EXPECT_EQ(decode_min_short_side(299, true, cfg), 1058);  // ceil(299 / sqrt(0.08))
  cfg.scale_min = 1;
  EXPECT_EQ(decode_min_short_side(299, true, cfg), 299);
}

}  // namespace
}  // namespace thaw
