// Reading TIFF: files written here with libtiff (grey, RGB, palette; 1 to 16 bits; strips and tiles,
// contiguous and separate planes, several compressions), so the expected pixels are known exactly;
// orientation; libtiff's RGBA path for CMYK and YCbCr; and the refusals, from files built byte by byte.
#include <tiffio.h>

#include <array>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "io/image_decode.h"
#include "tests/io/io_test_support.h"
#include "tests/support/rejection_cost.h"

namespace thaw {
namespace {

using ::testing::HasSubstr;
using testing::ScratchDir;
using testing::slurp;
using testing::spit;
using testing::user_error_of;

struct Spec {
  uint32_t width = 0, height = 0;
  uint16_t bits = 8, samples = 1, photometric = PHOTOMETRIC_MINISBLACK, planar = PLANARCONFIG_CONTIG;
  uint16_t compression = COMPRESSION_NONE, format = SAMPLEFORMAT_UINT, orientation = 0;  // 0: no tag
  uint32_t tile = 0;                // square tiles of this side; 0: strips
  uint32_t rows_per_strip = 1;
  std::vector<uint16_t> colormap{};  // all reds, then greens, then blues
};

// One row of one plane as TIFF stores it: 16 and 32 bits in the machine's order (libtiff swaps them
// when needed), narrower samples packed from the high bit down.
std::vector<uint8_t> pack(const std::vector<uint32_t>& values, int bits) {
  std::vector<uint8_t> out((values.size() * bits + 7) / 8);
  for (size_t i = 0; i < values.size(); ++i) {
    if (bits == 16 || bits == 32) {
      const auto v16 = static_cast<uint16_t>(values[i]);
      std::memcpy(out.data() + i * bits / 8, bits == 16 ? static_cast<const void*>(&v16) : &values[i], bits / 8);
      continue;
    }
    for (int b = 0; b < bits; ++b) {
      const size_t at = i * bits + b;
      if ((values[i] >> (bits - 1 - b)) & 1) out[at / 8] |= static_cast<uint8_t>(0x80 >> (at % 8));
    }
  }
  return out;
}

// Samples (x0, y) .. (x0 + n - 1, y) of one plane (all samples interleaved when contiguous).
std::vector<uint32_t> row_of(const Spec& s, const std::vector<uint32_t>& v, int plane, uint32_t y, uint32_t x0,
                             uint32_t n) {
  const bool separate = s.planar == PLANARCONFIG_SEPARATE;
  std::vector<uint32_t> out;
  for (uint32_t x = x0; x < x0 + n; ++x) {
    for (int c = 0; c < s.samples; ++c) {
      if (separate && c != plane) continue;
      const bool inside = x < s.width && y < s.height;
      out.push_back(inside ? v[(size_t{y} * s.width + x) * s.samples + c] : 0);
    }
  }
  return out;
}

void set_tags(TIFF* t, const Spec& s) {
  TIFFSetField(t, TIFFTAG_IMAGEWIDTH, s.width);
  TIFFSetField(t, TIFFTAG_IMAGELENGTH, s.height);
  TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, s.bits);
  TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, s.samples);
  TIFFSetField(t, TIFFTAG_PHOTOMETRIC, s.photometric);
  TIFFSetField(t, TIFFTAG_PLANARCONFIG, s.planar);
  TIFFSetField(t, TIFFTAG_COMPRESSION, s.compression);
  TIFFSetField(t, TIFFTAG_SAMPLEFORMAT, s.format);
  if (s.orientation != 0) TIFFSetField(t, TIFFTAG_ORIENTATION, s.orientation);
  if (s.samples == 2 || s.samples == 4) {
    const uint16_t alpha = EXTRASAMPLE_UNASSALPHA;
    if (s.photometric != PHOTOMETRIC_SEPARATED) TIFFSetField(t, TIFFTAG_EXTRASAMPLES, 1, &alpha);
  }
  if (!s.colormap.empty()) {
    const size_t n = s.colormap.size() / 3;
    TIFFSetField(t, TIFFTAG_COLORMAP, s.colormap.data(), s.colormap.data() + n, s.colormap.data() + 2 * n);
  }
  if (s.tile != 0) {
    TIFFSetField(t, TIFFTAG_TILEWIDTH, s.tile);
    TIFFSetField(t, TIFFTAG_TILELENGTH, s.tile);
  } else {
    TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, s.rows_per_strip);
  }
}

// A TIFF of `values` (height * width * samples), written by libtiff; returns its bytes.
std::string write_tiff(const ScratchDir& dir, const Spec& s, const std::vector<uint32_t>& values) {
  const auto path = dir / "written.tif";
  TIFF* t = TIFFOpen(path.c_str(), "w");
  EXPECT_NE(t, nullptr);
  set_tags(t, s);
  const int planes = s.planar == PLANARCONFIG_SEPARATE ? s.samples : 1;
  bool ok = true;
  for (int p = 0; p < planes; ++p) {
    for (uint32_t y = 0; y < s.height; y += s.tile ? s.tile : 1) {
      if (s.tile == 0) {
        std::vector<uint8_t> row = pack(row_of(s, values, p, y, 0, s.width), s.bits);
        ok = ok && TIFFWriteScanline(t, row.data(), y, static_cast<uint16_t>(p)) == 1;
        continue;
      }
      for (uint32_t x = 0; x < s.width; x += s.tile) {
        std::vector<uint8_t> tile;
        for (uint32_t j = 0; j < s.tile; ++j) {
          const std::vector<uint8_t> r = pack(row_of(s, values, p, y + j, x, s.tile), s.bits);
          tile.insert(tile.end(), r.begin(), r.end());
        }
        ok = ok && TIFFWriteTile(t, tile.data(), x, y, 0, static_cast<uint16_t>(p)) > 0;
      }
    }
  }
  TIFFClose(t);
  EXPECT_TRUE(ok);
  return slurp(path);
}

std::vector<uint32_t> ramp(size_t n, uint32_t step, uint32_t mod) {
  std::vector<uint32_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint32_t>((i * step + 3) % mod);
  return v;
}

// Grey replicated or RGB with alpha dropped: what the decoder must give, as wide values.
std::vector<uint32_t> expected_rgb(const std::vector<uint32_t>& v, int samples) {
  std::vector<uint32_t> out;
  for (size_t i = 0; i < v.size(); i += samples) {
    for (int c = 0; c < 3; ++c) out.push_back(v[i + (samples >= 3 ? c : 0)]);
  }
  return out;
}

template <typename T>
std::vector<uint32_t> widen(const std::vector<T>& v) {
  return {v.begin(), v.end()};
}

Image decode(const std::string& bytes) { return decode_tiff(bytes, "x.tif", kMaxImagePixels); }

TEST(TiffDecode, EightBitGreyAndRgbStripsAreExact) {
  ScratchDir dir;
  for (const uint16_t samples : {1, 2, 3, 4}) {
    SCOPED_TRACE(samples);
    Spec s{.width = 7, .height = 5, .samples = samples,
           .photometric = static_cast<uint16_t>(samples >= 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK)};
    const std::vector<uint32_t> v = ramp(7 * 5 * samples, 37, 256);
    const Image img = decode(write_tiff(dir, s, v));
    EXPECT_EQ(img.width, 7);
    EXPECT_EQ(img.height, 5);
    EXPECT_EQ(widen(img.rgb), expected_rgb(v, samples));
    EXPECT_TRUE(img.rgb16.empty());
  }
}

TEST(TiffDecode, SixteenBitGreyKeepsEveryValue) {
  ScratchDir dir;
  const std::vector<uint32_t> v = {0, 1, 128, 129, 257, 1000, 32767, 65534, 65535, 385};
  const Image img = decode(write_tiff(dir, {.width = 5, .height = 2, .bits = 16}, v));
  const std::vector<uint32_t> want = expected_rgb(v, 1);
  EXPECT_EQ(widen(img.rgb16), want);
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(img.rgb[i], (2 * want[i] + 257) / 514) << want[i];
}

TEST(TiffDecode, SixteenBitRgbLzwSeparatePlanesAndTilesAreExact) {
  ScratchDir dir;
  const std::vector<uint32_t> v = ramp(20 * 18 * 4, 4099, 65536);
  const std::vector<uint32_t> want = expected_rgb(v, 4);
  Spec s{.width = 20, .height = 18, .bits = 16, .samples = 4, .photometric = PHOTOMETRIC_RGB};
  EXPECT_EQ(widen(decode(write_tiff(dir, s, v)).rgb16), want);
  for (const uint16_t planar : {PLANARCONFIG_CONTIG, PLANARCONFIG_SEPARATE}) {
    for (const uint32_t tile : {0u, 16u}) {
      for (const uint16_t compression : {COMPRESSION_LZW, COMPRESSION_ADOBE_DEFLATE, COMPRESSION_PACKBITS}) {
        SCOPED_TRACE(cat_str(planar, " ", tile, " ", compression));
        s.planar = planar;
        s.tile = tile;
        s.compression = compression;
        s.rows_per_strip = 7;
        const Image img = decode(write_tiff(dir, s, v));
        EXPECT_EQ(widen(img.rgb16), want);
        EXPECT_EQ(img.width, 20);
      }
    }
  }
}

TEST(TiffDecode, SixteenBitOfScaledValuesGivesTheEightBitImage) {
  ScratchDir dir;
  const std::vector<uint32_t> u = ramp(9 * 4 * 3, 71, 256);
  std::vector<uint32_t> wide;
  for (uint32_t x : u) wide.push_back(257 * x);
  Spec s{.width = 9, .height = 4, .samples = 3, .photometric = PHOTOMETRIC_RGB};
  const Image eight = decode(write_tiff(dir, s, u));
  s.bits = 16;
  const Image sixteen = decode(write_tiff(dir, s, wide));
  EXPECT_EQ(sixteen.rgb, eight.rgb);
  EXPECT_EQ(widen(sixteen.rgb16), wide);
}

TEST(TiffDecode, MinIsWhiteIsInverted) {
  ScratchDir dir;
  const std::vector<uint32_t> v = {0, 1, 200, 255};
  const Image eight = decode(write_tiff(dir, {.width = 4, .height = 1, .photometric = PHOTOMETRIC_MINISWHITE}, v));
  EXPECT_EQ(widen(eight.rgb), expected_rgb({255, 254, 55, 0}, 1));
  const std::vector<uint32_t> w = {0, 1, 65535, 1000};
  const Image sixteen =
      decode(write_tiff(dir, {.width = 4, .height = 1, .bits = 16, .photometric = PHOTOMETRIC_MINISWHITE}, w));
  EXPECT_EQ(widen(sixteen.rgb16), expected_rgb({65535, 65534, 0, 64535}, 1));
}

TEST(TiffDecode, NarrowGreyIsScaledToEightBits) {
  ScratchDir dir;
  const std::vector<uint32_t> bits = ramp(22, 1, 2);
  const Image one = decode(write_tiff(dir, {.width = 11, .height = 2, .bits = 1}, bits));
  std::vector<uint32_t> full = bits;
  for (uint32_t& x : full) x *= 255;
  EXPECT_EQ(widen(one.rgb), expected_rgb(full, 1));
  const Image four = decode(write_tiff(dir, {.width = 5, .height = 3, .bits = 4, .tile = 16}, ramp(15, 7, 16)));
  std::vector<uint32_t> want = ramp(15, 7, 16);
  for (uint32_t& x : want) x *= 17;
  EXPECT_EQ(widen(four.rgb), expected_rgb(want, 1));
  const Image white = decode(write_tiff(dir, {.width = 3, .height = 1, .bits = 2, .photometric = PHOTOMETRIC_MINISWHITE},
                                        {0, 1, 3}));
  EXPECT_EQ(widen(white.rgb), expected_rgb({255, 170, 0}, 1));
}

TEST(TiffDecode, PaletteTakesTheColourMap) {
  ScratchDir dir;
  std::vector<uint16_t> map(3 * 256);
  for (size_t i = 0; i < map.size(); ++i) map[i] = static_cast<uint16_t>(i * 331 + 4096);  // not multiples of 257
  const std::vector<uint32_t> v = {0, 5, 255, 17, 128, 3};
  const Image img = decode(write_tiff(dir, {.width = 3, .height = 2, .photometric = PHOTOMETRIC_PALETTE, .colormap = map}, v));
  std::vector<uint32_t> want;
  for (uint32_t i : v) {
    for (int c = 0; c < 3; ++c) want.push_back(map[c * 256 + i]);
  }
  EXPECT_EQ(widen(img.rgb16), want);
  // 4-bit indices, and a map of 8-bit entries (an old writers' mistake) taken as 8-bit, as libtiff does.
  std::vector<uint16_t> small(3 * 16);
  for (size_t i = 0; i < small.size(); ++i) small[i] = static_cast<uint16_t>(i * 5);
  const Image four = decode(write_tiff(
      dir, {.width = 3, .height = 1, .bits = 4, .photometric = PHOTOMETRIC_PALETTE, .colormap = small}, {15, 0, 2}));
  EXPECT_EQ(widen(four.rgb), std::vector<uint32_t>({75, 155, 235, 0, 80, 160, 10, 90, 170}));
}

// Samples of a w x h image whose pixel (x, y) is 10x + y in its first sample, 100c in sample c.
std::vector<uint32_t> marked(uint32_t w, uint32_t h, int samples) {
  std::vector<uint32_t> v;
  for (uint32_t y = 0; y < h; ++y) {
    for (uint32_t x = 0; x < w; ++x) {
      for (int c = 0; c < samples; ++c) v.push_back(c == 0 ? 10 * x + y : 100 * c);
    }
  }
  return v;
}

TEST(TiffDecode, OrientationSixIsTurnedUpright) {
  ScratchDir dir;
  const std::string bytes = write_tiff(
      dir, {.width = 3, .height = 2, .samples = 3, .photometric = PHOTOMETRIC_RGB, .orientation = 6}, marked(3, 2, 3));
  const ImageHeader h = read_tiff_header(bytes, "x.tif", kMaxImagePixels);
  EXPECT_EQ(h.format, "tiff");
  EXPECT_EQ(h.width, 2);
  EXPECT_EQ(h.height, 3);
  EXPECT_EQ(h.orientation, 6);
  const Image img = decode(bytes);
  ASSERT_EQ(img.width, 2);
  ASSERT_EQ(img.height, 3);
  // Turned 90 degrees clockwise: the stored bottom-left pixel (0, 1) is the upright top-left.
  std::vector<uint32_t> red;
  for (size_t i = 0; i < img.rgb.size(); i += 3) red.push_back(img.rgb[i]);
  EXPECT_EQ(red, std::vector<uint32_t>({1, 0, 11, 10, 21, 20}));
}

TEST(TiffDecode, CmykGoesThroughLibtiffAndIsTurnedUpright) {
  ScratchDir dir;
  // No ink, full cyan, full black, every ink full: white, cyan, black, black.
  const std::vector<uint32_t> v = {0, 0, 0, 0, 255, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 255};
  Spec s{.width = 2, .height = 2, .samples = 4, .photometric = PHOTOMETRIC_SEPARATED};
  const Image img = decode(write_tiff(dir, s, v));
  EXPECT_EQ(widen(img.rgb), std::vector<uint32_t>({255, 255, 255, 0, 255, 255, 0, 0, 0, 0, 0, 0}));
  s.orientation = 8;  // 90 degrees counter-clockwise: the stored top-right pixel is the upright top-left
  const Image turned = decode(write_tiff(dir, s, v));
  EXPECT_EQ(widen(turned.rgb), std::vector<uint32_t>({0, 255, 255, 0, 0, 0, 255, 255, 255, 0, 0, 0}));
}

TEST(TiffDecode, JpegYcbcrIsCloseToItsColour) {
  ScratchDir dir;
  const auto path = dir / "jpeg.tif";
  TIFF* t = TIFFOpen(path.c_str(), "w");
  ASSERT_NE(t, nullptr);
  set_tags(t, {.width = 16, .height = 16, .samples = 3, .photometric = PHOTOMETRIC_YCBCR,
               .compression = COMPRESSION_JPEG, .rows_per_strip = 16});
  TIFFSetField(t, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB);
  std::vector<uint8_t> row(16 * 3);
  for (size_t i = 0; i < row.size(); ++i) row[i] = static_cast<uint8_t>(i % 3 == 0 ? 200 : i % 3 == 1 ? 90 : 30);
  for (uint32_t y = 0; y < 16; ++y) ASSERT_EQ(TIFFWriteScanline(t, row.data(), y, 0), 1);
  TIFFClose(t);
  const Image img = decode(slurp(path));
  ASSERT_EQ(img.rgb.size(), 16u * 16 * 3);
  for (size_t i = 0; i < img.rgb.size(); ++i) EXPECT_NEAR(img.rgb[i], row[i % 48], 4) << i;
}

void le(std::string& out, uint32_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

// A little-endian TIFF built byte by byte: one directory of 8-bit grey with a single strip of
// `strip` bytes declared at offset 8 + directory, followed by `data`.
std::string handmade(uint32_t w, uint32_t h, uint32_t strip, const std::string& data, uint32_t compression = 1) {
  const uint32_t entries = 9, data_at = 8 + 2 + 12 * entries + 4;
  const std::vector<std::array<uint32_t, 3>> tags = {{256, 4, w},      {257, 4, h},       {258, 3, 8},
                                                     {259, 3, compression}, {262, 3, 1},       {273, 4, data_at},
                                                     {277, 3, 1},      {278, 4, h},       {279, 4, strip}};
  std::string out("II*\0", 4);
  le(out, 8, 4);
  le(out, entries, 2);
  for (const auto& [tag, type, value] : tags) {
    le(out, tag, 2);
    le(out, type, 2);
    le(out, 1, 4);
    le(out, value, 4);  // a SHORT sits in the first two bytes: little-endian makes this right too
  }
  le(out, 0, 4);
  return out + data;
}

TEST(TiffDecode, HandmadeFileReadsAsWritten) {
  const Image img = decode(handmade(3, 2, 6, "\x01\x02\x03\x04\x05\xff"));
  EXPECT_EQ(widen(img.rgb), expected_rgb({1, 2, 3, 4, 5, 255}, 1));
}

std::string refused(const std::string& bytes) {
  return user_error_of([&] { decode_tiff(bytes, "bad.tif", kMaxImagePixels); });
}

TEST(TiffDecode, UnsupportedSamplesAreRefusedNamingThem) {
  ScratchDir dir;
  Spec s{.width = 2, .height = 2, .bits = 32, .format = SAMPLEFORMAT_IEEEFP};
  const std::vector<uint32_t> zeros(4, 0);
  const std::string tail = "; thaw reads 8- and 16-bit unsigned grey, RGB and palette TIFFs)";
  EXPECT_EQ(refused(write_tiff(dir, s, zeros)), "bad.tif: unsupported TIFF (32-bit floating-point samples" + tail);
  EXPECT_THAT(user_error_of([&] { read_tiff_header(write_tiff(dir, s, zeros), "bad.tif", kMaxImagePixels); }),
              HasSubstr("unsupported TIFF (32-bit floating-point samples"));
  s = {.width = 2, .height = 2, .bits = 16, .format = SAMPLEFORMAT_INT};
  EXPECT_THAT(refused(write_tiff(dir, s, zeros)), HasSubstr("unsupported TIFF (16-bit signed integer samples"));
  s = {.width = 2, .height = 2, .bits = 12};
  EXPECT_THAT(refused(write_tiff(dir, s, zeros)), HasSubstr("unsupported TIFF (photometric interpretation 1 with 1 "
                                                            "samples per pixel of 12 bits"));
}

TEST(TiffDecode, CorruptFilesAreUserErrorsNamingTheFile) {
  ScratchDir dir;
  const std::string good = write_tiff(dir, {.width = 40, .height = 30, .bits = 16}, ramp(1200, 99, 65536));
  EXPECT_THAT(refused(good.substr(0, good.size() / 2)), HasSubstr("bad.tif: corrupt or unsupported TIFF ("));
  EXPECT_THAT(refused(std::string("II*\0", 4) + std::string(200, '\x5a')), HasSubstr("bad.tif: corrupt or unsupported TIFF ("));
  EXPECT_THAT(refused(std::string("MM\0*", 4)), HasSubstr("bad.tif: corrupt or unsupported TIFF ("));
  // The directory intact, the strip cut short; and a strip placed past the end of the file.
  EXPECT_THAT(refused(handmade(64, 64, 4096, std::string(100, '\1'))), HasSubstr("bad.tif: corrupt or unsupported TIFF ("));
  EXPECT_THAT(refused(handmade(64, 64, 4096, "")), HasSubstr("bad.tif: corrupt or unsupported TIFF ("));
  EXPECT_THAT(refused(handmade(0, 5, 0, "")), HasSubstr("bad.tif: corrupt or unsupported TIFF ("));
  // Enough bytes for the pixels they claim, but not Deflate: libtiff's own message.
  EXPECT_THAT(refused(handmade(64, 64, 100, std::string(100, '\1'), COMPRESSION_ADOBE_DEFLATE)),
              HasSubstr("bad.tif: corrupt or unsupported TIFF (Decoding error"));
  // Every prefix fails cleanly, never crashes (the sanitizer build checks the reads).
  for (size_t n = 0; n < good.size(); n += 97) {
    try {
      decode_tiff(good.substr(0, n), "cut.tif", kMaxImagePixels);
      ADD_FAILURE() << n << " bytes decoded";
    } catch (const UserError& e) {
      EXPECT_THAT(e.what(), HasSubstr("cut.tif: ")) << n;
    }
  }
}

TEST(TiffDecode, TooManyPixelsAreRefusedBeforeTheirMemory) {
  ScratchDir dir;
  spit(dir / "huge.tif", handmade(100000, 100000, 100, std::string(100, '\0')));
  const std::string msg = testkit::refused_cheaply([&] { read_image(dir / "huge.tif"); }, "huge.tif");
  EXPECT_THAT(msg, HasSubstr("huge.tif: image of 100000x100000 pixels is larger than the limit"));
  EXPECT_THAT(user_error_of([&] { read_tiff_header(slurp(dir / "huge.tif"), "huge.tif", kMaxImagePixels); }),
              HasSubstr("larger than the limit"));
  const std::string small = handmade(3, 2, 6, "\x01\x02\x03\x04\x05\x06");
  EXPECT_THAT(user_error_of([&] { decode_tiff(small, "s.tif", 5); }), HasSubstr("image of 3x2 pixels"));
  EXPECT_EQ(decode_tiff(small, "s.tif", 6).width, 3);
  // Within the limit, but far more pixels than the file's bytes can hold.
  spit(dir / "claim.tif", handmade(16384, 16384, 1 << 28, std::string(1000, '\0')));
  EXPECT_THAT(testkit::refused_cheaply([&] { read_image(dir / "claim.tif"); }, "claim.tif"),
              HasSubstr("claim.tif: corrupt or unsupported TIFF (the header claims more pixels than the file holds)"));
}

TEST(TiffDecode, DecodersInSeveralThreadsKeepTheirOwnErrors) {
  ScratchDir dir;
  const std::vector<uint32_t> v = ramp(64 * 64, 1234, 65536);
  const std::string good = write_tiff(dir, {.width = 64, .height = 64, .bits = 16, .compression = COMPRESSION_LZW}, v);
  const std::string bad = handmade(64, 64, 4096, std::string(100, '\1'));
  const std::string bad_msg = refused(bad);
  std::vector<int> wrong(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        try {
          wrong[t] += widen(decode(good).rgb16) != expected_rgb(v, 1);
          decode_tiff(bad, "bad.tif", kMaxImagePixels);
          ++wrong[t];
        } catch (const UserError& e) {
          wrong[t] += e.what() != bad_msg;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong, std::vector<int>(4, 0));
}

TEST(TiffDecode, SixteenBitGreyMatchesPil) {
  THAW_REQUIRE_PYTHON("numpy, PIL");
  ScratchDir dir;
  const std::vector<uint32_t> v = ramp(13 * 7, 6007, 65536);
  spit(dir / "grey16.tif", write_tiff(dir, {.width = 13, .height = 7, .bits = 16, .compression = COMPRESSION_LZW}, v));
  ASSERT_EQ(testing::run_python(dir, "import numpy as np\nfrom PIL import Image\n"
                                     "a = np.array(Image.open('grey16.tif')).astype('<u2')\n"
                                     "open('pil.u16', 'wb').write(a.tobytes())\n"),
            0);
  const std::string pil = slurp(dir / "pil.u16");
  ASSERT_EQ(pil.size(), 13u * 7 * 2);
  const Image img = read_image(dir / "grey16.tif");
  for (size_t i = 0; i < 13 * 7; ++i) {
    const uint32_t want = static_cast<uint8_t>(pil[2 * i]) | static_cast<uint8_t>(pil[2 * i + 1]) << 8;
    EXPECT_EQ(img.rgb16[3 * i], want) << i;
  }
}

}  // namespace
}  // namespace thaw
