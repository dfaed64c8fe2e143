// Decoding JPEG and PNG: every PNG colour type and bit depth against pixels known by construction,
// JPEGs (4:2:0, 4:4:4, progressive, grey) against PIL on the same libjpeg-turbo, the eight EXIF
// orientations, DCT-scaled decoding against a full decode resampled, and the errors for bad files.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>

#include "io/exif.h"
#include "io/image_decode.h"
#include "io/resample.h"
#include "tests/io/image_fixtures.h"

namespace thaw {
namespace {

using ::testing::HasSubstr;
using testing::ImageCase;
using testing::read_image_cases;
using testing::read_raw;
using testing::run_python;
using testing::ScratchDir;
using testing::slurp;
using testing::spit;
using testing::user_error_of;

class ImageDecode : public ::testing::Test {
 protected:
  void SetUp() override {
    THAW_REQUIRE_PYTHON("numpy, PIL");
    ASSERT_EQ(run_python(dir_, testing::kImageFixtureScript), 0);
    cases_ = read_image_cases(dir_);
    ASSERT_EQ(cases_.size(), 26u);
  }
  std::filesystem::path file(const ImageCase& c) const { return dir_ / (c.name + "." + c.ext); }

  ScratchDir dir_;
  std::vector<ImageCase> cases_;
};

TEST_F(ImageDecode, EveryCaseGivesTheExpectedPixelsExactly) {
  for (const ImageCase& c : cases_) {
    SCOPED_TRACE(c.name);
    const Image img = read_image(file(c));
    EXPECT_EQ(img.width, c.width);
    EXPECT_EQ(img.height, c.height);
    const std::vector<uint8_t> want = read_raw(dir_ / (c.name + ".rgb"));
    ASSERT_EQ(img.rgb.size(), want.size());
    int64_t differing = 0;
    for (size_t i = 0; i < want.size(); ++i) differing += img.rgb[i] != want[i];
    EXPECT_EQ(differing, 0);
    // 16-bit PNGs keep every bit (io/pixel_mapping.h), 8-bit ones have no second copy.
    const std::string wide = slurp(dir_ / (c.name + ".rgb16"));
    ASSERT_EQ(img.rgb16.size() * 2, wide.size());
    if (!wide.empty()) EXPECT_EQ(std::memcmp(img.rgb16.data(), wide.data(), wide.size()), 0);
    const ImageHeader h = read_image_header(slurp(file(c)), c.name);
    EXPECT_EQ(h.format, c.ext == "png" ? "png" : "jpeg");
    EXPECT_EQ(h.width, c.width);
    EXPECT_EQ(h.height, c.height);
  }
}

TEST_F(ImageDecode, ExifOrientationsStandUpright) {
  // Beyond matching PIL: each orientation, undone, is close to the upright original (JPEG loss only).
  const std::vector<uint8_t> upright = read_raw(dir_ / "upright.rgb");
  for (int k = 1; k <= 8; ++k) {
    SCOPED_TRACE(k);
    const std::string name = "jpeg_exif" + std::to_string(k) + ".jpg";
    const Image img = read_image(dir_ / name);
    ASSERT_EQ(img.width, 64);
    ASSERT_EQ(img.height, 48);
    EXPECT_EQ(read_image_header(slurp(dir_ / name), name).orientation, k);
    double sum = 0;
    for (size_t i = 0; i < upright.size(); ++i) sum += std::abs(int(img.rgb[i]) - int(upright[i]));
    EXPECT_LT(sum / upright.size(), 3.0);
  }
}

TEST_F(ImageDecode, DctScalingIsCloseToFullDecodeThenResample) {
  // DCT scaling averages 8x8 blocks down to 4x4, 2x2 or 1x1 (box-like); ours is a widened triangle,
  // so the two differ most at 1/8 on textured content. Measured on this photo-like image (mean |diff|,
  // max, in grey levels): 1/2: 0.71, 4.8; 1/4: 1.21, 6.1; 1/8: 3.50, 19.7. The bounds leave a margin;
  // a box shifted by one output pixel must be clearly worse, so a wrong offset or scale would show.
  const auto bytes = slurp(dir_ / "photo.jpg");
  const Image full = decode_image(bytes, "photo.jpg");
  const struct {
    int denom;
    double mean, max;
  } bounds[] = {{2, 1.2, 10}, {4, 2.0, 12}, {8, 5.0, 30}};
  for (const auto& b : bounds) {
    SCOPED_TRACE(b.denom);
    const int64_t min_side = 384 / b.denom;
    EXPECT_EQ(jpeg_scale_denom(512, 384, min_side), b.denom);
    const Image small = decode_image(bytes, "photo.jpg", min_side);
    ASSERT_EQ(small.width, 512 / b.denom);
    ASSERT_EQ(small.height, 384 / b.denom);
    const int64_t plane = small.width * small.height;
    auto compare = [&](double shift) {
      std::vector<float> ref(static_cast<size_t>(3 * plane));
      resample_rgb(full, {shift, 0, 512 + shift, 384}, small.width, small.height, ref.data());
      double sum = 0, worst = 0;
      for (int64_t c = 0; c < 3; ++c) {
        for (int64_t i = 0; i < plane; ++i) {
          const double d = std::abs(double(small.rgb[3 * i + c]) - ref[c * plane + i]);
          sum += d;
          worst = std::max(worst, d);
        }
      }
      return std::pair{sum / double(3 * plane), worst};
    };
    const auto [mean, worst] = compare(0);
    const auto [shifted_mean, shifted_worst] = compare(b.denom);
    std::printf("DCT 1/%d vs full decode + resample: mean |diff| %.3f, max %.2f (one pixel off: %.3f, %.2f)\n",
                b.denom, mean, worst, shifted_mean, shifted_worst);
    EXPECT_LT(mean, b.mean);
    EXPECT_LT(worst, b.max);
    EXPECT_LT(mean, 0.7 * shifted_mean);
  }
}

TEST(ImageDecodeScale, ScaleDenominatorKeepsTheShorterSideAboveTheTarget) {
  EXPECT_EQ(jpeg_scale_denom(1022, 767, 0), 1);
  EXPECT_EQ(jpeg_scale_denom(1022, 767, 342), 2);   // 384 >= 342, 192 is not
  EXPECT_EQ(jpeg_scale_denom(3072, 2304, 342), 4);  // 576 >= 342, 288 is not
  EXPECT_EQ(jpeg_scale_denom(256, 256, 342), 1);
  EXPECT_EQ(jpeg_scale_denom(2736, 2736, 342), 8);  // exactly 342
  EXPECT_EQ(jpeg_scale_denom(2735, 4000, 342), 8);  // libjpeg rounds 2735/8 up to 342
  EXPECT_EQ(jpeg_scale_denom(2728, 4000, 342), 4);  // 341 would be one short
}

TEST_F(ImageDecode, BadFilesAreUserErrorsNamingTheFile) {
  const std::string jpg = slurp(dir_ / "jpeg_420.jpg");
  const std::string png = slurp(dir_ / "png_rgb8.png");
  spit(dir_ / "cut.jpg", jpg.substr(0, jpg.size() * 6 / 10));
  EXPECT_THAT(user_error_of([&] { read_image(dir_ / "cut.jpg"); }), HasSubstr("cut.jpg: corrupt or truncated JPEG"));
  std::string garbled = jpg;
  for (size_t i = garbled.size() / 2; i < garbled.size() / 2 + 64; ++i) garbled[i] = static_cast<char>(i * 37);
  spit(dir_ / "garbled.jpg", garbled);
  EXPECT_THAT(user_error_of([&] { read_image(dir_ / "garbled.jpg"); }), HasSubstr("garbled.jpg: corrupt"));
  spit(dir_ / "cut.png", png.substr(0, png.size() - 30));
  EXPECT_THAT(user_error_of([&] { read_image(dir_ / "cut.png"); }), HasSubstr("cut.png: corrupt or unsupported PNG"));
  std::string crc = png;
  crc[crc.find("IDAT") + 6] ^= 0x55;
  spit(dir_ / "crc.png", crc);
  EXPECT_THAT(user_error_of([&] { read_image(dir_ / "crc.png"); }), HasSubstr("crc.png: corrupt or unsupported PNG"));
  spit(dir_ / "text.png", "not an image at all");
  EXPECT_THAT(user_error_of([&] { read_image(dir_ / "text.png"); }), HasSubstr("text.png: not a JPEG, PNG, TIFF or DICOM image"));
  spit(dir_ / "empty.jpg", "");
  EXPECT_THAT(user_error_of([&] { read_image(dir_ / "empty.jpg"); }), HasSubstr("empty.jpg: empty file"));
  EXPECT_THAT(user_error_of([&] { read_image(dir_ / "missing.jpg"); }), HasSubstr("missing.jpg"));
  EXPECT_THAT(user_error_of([&] { read_image(dir_ / "cmyk.jpg"); }), HasSubstr("cmyk.jpg: CMYK JPEG"));
}

TEST(Exif, MalformedBlocksReadAsUpright) {
  // "Exif\0\0", little-endian TIFF header, IFD0 at 8 with one entry: orientation (SHORT, 1) = 6.
  std::vector<uint8_t> ok = {'E', 'x', 'i', 'f', 0, 0, 'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0,
                             0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0};
  EXPECT_EQ(exif_orientation(ok.data(), ok.size()), 6);
  std::vector<uint8_t> big = {'E', 'x', 'i', 'f', 0, 0, 'M', 'M', 0, 42, 0, 0, 0, 8, 0, 1,
                              0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 8, 0, 0};
  EXPECT_EQ(exif_orientation(big.data(), big.size()), 8);
  // Every truncation before the value's two bytes end (the value field's padding is not needed).
  for (size_t n = 0; n < 26; ++n) EXPECT_EQ(exif_orientation(ok.data(), n), 1) << n;
  std::vector<uint8_t> bad_value = ok;
  bad_value[24] = 9;
  EXPECT_EQ(exif_orientation(bad_value.data(), bad_value.size()), 1);
  std::vector<uint8_t> far_ifd = ok;
  far_ifd[13] = 0x7f;  // IFD offset past the end
  EXPECT_EQ(exif_orientation(far_ifd.data(), far_ifd.size()), 1);
}

// Orientation stored as LONG or BYTE instead of SHORT (once ignored, where other decoders rotate).
TEST(Exif, OrientationStoredAsLongOrByteIsRead) {
  const std::vector<uint8_t> long_le = {'E', 'x', 'i', 'f', 0, 0, 'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0,
                                        0x12, 0x01, 4, 0, 1, 0, 0, 0, 6, 0, 0, 0};
  EXPECT_EQ(exif_orientation(long_le.data(), long_le.size()), 6);
  const std::vector<uint8_t> long_be = {'E', 'x', 'i', 'f', 0, 0, 'M', 'M', 0, 42, 0, 0, 0, 8, 0, 1,
                                        0x01, 0x12, 0, 4, 0, 0, 0, 1, 0, 0, 0, 8};
  EXPECT_EQ(exif_orientation(long_be.data(), long_be.size()), 8);
  const std::vector<uint8_t> byte = {'E', 'x', 'i', 'f', 0, 0, 'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0,
                                     0x12, 0x01, 1, 0, 1, 0, 0, 0, 3, 0, 0, 0};
  EXPECT_EQ(exif_orientation(byte.data(), byte.size()), 3);
  // A LONG cut before its four bytes end, and a RATIONAL, read as upright.
  EXPECT_EQ(exif_orientation(long_le.data(), 27), 1);
  std::vector<uint8_t> rational = long_le;
  rational[18] = 5;
  EXPECT_EQ(exif_orientation(rational.data(), rational.size()), 1);
}

}  // namespace
}  // namespace thaw
