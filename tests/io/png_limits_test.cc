// PNG files built byte by byte to hit libpng's limits: a 57-byte file declaring a 1 GiB text chunk,
// a tiny file whose header claims 16384x16384 pixels, and a palette image with an index past its
// palette. Each is refused in one line, fast and without the memory the file asks for (measured
// here, tests/support/rejection_cost.h: once 1.2 GB and 4-6 s, or 1 GB; the index was decoded
// without complaint).
#include <zlib.h>

#include <cstring>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "io/image_decode.h"
#include "tests/io/io_test_support.h"
#include "tests/support/rejection_cost.h"

namespace thaw {
namespace {

using ::testing::HasSubstr;
using testing::ScratchDir;
using testing::spit;
using testing::user_error_of;

void be32(std::string& out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out += static_cast<char>((v >> s) & 0xff);
}

// A chunk with its length and CRC; `declared` overrides the length field.
std::string chunk(const std::string& type, const std::string& data, int64_t declared = -1) {
  std::string out;
  be32(out, static_cast<uint32_t>(declared >= 0 ? declared : static_cast<int64_t>(data.size())));
  const std::string body = type + data;
  out += body;
  be32(out, static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()))));
  return out;
}

std::string ihdr(uint32_t w, uint32_t h, int depth, int color) {
  std::string d;
  be32(d, w);
  be32(d, h);
  d += static_cast<char>(depth);
  d += static_cast<char>(color);
  d += std::string(3, '\0');  // deflate, filter 0, no interlace
  return chunk("IHDR", d);
}

std::string idat(const std::string& raw) {
  uLongf n = compressBound(static_cast<uLong>(raw.size()));
  std::string z(n, '\0');
  compress(reinterpret_cast<Bytef*>(z.data()), &n, reinterpret_cast<const Bytef*>(raw.data()), static_cast<uLong>(raw.size()));
  z.resize(n);
  return chunk("IDAT", z);
}

const std::string kSignature = "\x89PNG\r\n\x1a\n";

// The rejection's message, after checking it took under a second and under 200 MB more memory.
std::string refused(const std::filesystem::path& file) {
  return testkit::refused_cheaply([&] { read_image(file); }, file.string());
}

TEST(PngLimits, AHugeDeclaredChunkIsRefusedWithoutItsMemory) {
  ScratchDir dir;
  const std::string file = kSignature + ihdr(2, 1, 8, 2) + chunk("tEXt", "", int64_t{1} << 30).substr(0, 8);
  EXPECT_LE(file.size(), 57u);
  spit(dir / "chunk.png", file);
  EXPECT_THAT(refused(dir / "chunk.png"), HasSubstr("chunk.png: corrupt or unsupported PNG"));
}

TEST(PngLimits, AHeaderClaimingMorePixelsThanTheFileHoldsIsRefusedBeforeTheRows) {
  ScratchDir dir;
  spit(dir / "claim.png", kSignature + ihdr(16384, 16384, 8, 2) + idat(std::string(100, '\0')) + chunk("IEND", ""));
  EXPECT_THAT(refused(dir / "claim.png"), HasSubstr("the header claims more pixels than the file holds"));
}

TEST(PngLimits, APaletteIndexPastThePaletteIsAnError) {
  ScratchDir dir;
  const std::string plte = chunk("PLTE", std::string("\xff\x00\x00\x00\xff\x00", 6));  // two colours
  // One row of two pixels: filter byte 0, indices 0 and 5.
  spit(dir / "index.png", kSignature + ihdr(2, 1, 8, 3) + plte + idat(std::string("\0\0\5", 3)) + chunk("IEND", ""));
  EXPECT_THAT(refused(dir / "index.png"), HasSubstr("index.png: corrupt PNG (a pixel's palette index 5 is beyond the palette of 2 colours)"));
  // The same image with index 1 decodes: red, green.
  spit(dir / "ok.png", kSignature + ihdr(2, 1, 8, 3) + plte + idat(std::string("\0\0\1", 3)) + chunk("IEND", ""));
  const Image im = read_image(dir / "ok.png");
  EXPECT_EQ(im.width, 2);
  EXPECT_EQ(im.rgb[0], 255);
  EXPECT_EQ(im.rgb[4], 255);
}

}  // namespace
}  // namespace thaw
