// A progressive JPEG of more than kMaxJpegScans scans (each a pass over the whole image; a few KB
// of them could keep the decoder busy for minutes) is refused; an ordinary progressive JPEG (ten
// scans) decodes. Both are written here with libjpeg's own encoder and a scan script.
#include <cstddef>
#include <cstdio>
#include <cstdlib>

#include <jpeglib.h>
#include <string>
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
using testing::spit;
using testing::user_error_of;

// A 16x16 RGB gradient; `scans`: a script, or empty for libjpeg's simple progression.
std::string encode(const std::vector<jpeg_scan_info>& scans) {
  jpeg_compress_struct c;
  jpeg_error_mgr err;
  c.err = jpeg_std_error(&err);
  jpeg_create_compress(&c);
  unsigned char* out = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&c, &out, &size);
  c.image_width = 16;
  c.image_height = 16;
  c.input_components = 3;
  c.in_color_space = JCS_RGB;
  jpeg_set_defaults(&c);
  jpeg_simple_progression(&c);
  if (!scans.empty()) {
    c.scan_info = scans.data();
    c.num_scans = static_cast<int>(scans.size());
  }
  jpeg_start_compress(&c, TRUE);
  std::vector<unsigned char> row(16 * 3);
  for (int y = 0; y < 16; ++y) {
    for (int x = 0; x < 16 * 3; ++x) row[x] = static_cast<unsigned char>(x * 5 + y * 7);
    JSAMPROW r = row.data();
    jpeg_write_scanlines(&c, &r, 1);
  }
  jpeg_finish_compress(&c);
  std::string bytes(reinterpret_cast<const char*>(out), size);
  jpeg_destroy_compress(&c);
  std::free(out);
  return bytes;
}

// One DC scan, then every AC coefficient of every component alone, at 2 bits less precision first
// and refined twice: 1 + 3 x 63 x 3 = 568 scans.
std::vector<jpeg_scan_info> many_scans() {
  std::vector<jpeg_scan_info> s;
  s.push_back({3, {0, 1, 2, 0}, 0, 0, 0, 0});
  for (int comp = 0; comp < 3; ++comp) {
    for (int k = 1; k <= 63; ++k) {
      s.push_back({1, {comp, 0, 0, 0}, k, k, 0, 2});
      s.push_back({1, {comp, 0, 0, 0}, k, k, 2, 1});
      s.push_back({1, {comp, 0, 0, 0}, k, k, 1, 0});
    }
  }
  return s;
}

TEST(JpegLimits, MoreScansThanTheLimitAreRefusedAndAnOrdinaryProgressiveImageDecodes) {
  ScratchDir dir;
  spit(dir / "progressive.jpg", encode({}));
  const Image ok = read_image(dir / "progressive.jpg");
  EXPECT_EQ(ok.width, 16);
  const std::vector<jpeg_scan_info> scans = many_scans();
  ASSERT_GT(static_cast<int>(scans.size()), kMaxJpegScans);
  spit(dir / "scans.jpg", encode(scans));
  EXPECT_THAT(testkit::refused_cheaply([&] { read_image(dir / "scans.jpg"); }, "scans.jpg"),
              HasSubstr("scans.jpg: corrupt or unsupported JPEG (more than 500 scans)"));
}

// The SOF marker of a 16x16 image rewritten to claim 60000x60000 (3.6e9 pixels, 10.8 GB of RGB):
// refused from the header; and an ordinary image over a --max-image-pixels limit.
TEST(JpegLimits, ImagesOverThePixelLimitAreRefusedBeforeTheirPixels) {
  std::string bytes = encode({});
  const size_t sof = bytes.find("\xff\xc2");  // progressive SOF (jpeg_simple_progression)
  ASSERT_NE(sof, std::string::npos);
  for (size_t at : {sof + 5, sof + 7}) {  // height, then width, big-endian
    bytes[at] = static_cast<char>(60000 >> 8);
    bytes[at + 1] = static_cast<char>(60000 & 0xff);
  }
  EXPECT_THAT(testkit::refused_cheaply([&] { decode_image(bytes, "claim.jpg"); }, "claim.jpg"),
              HasSubstr("claim.jpg: image of 60000x60000 pixels is larger than the limit of 268435456 pixels "
                        "(--max-image-pixels)"));
  const std::string ok = encode({});
  EXPECT_EQ(decode_image(ok, "ok.jpg", 0, 256).width, 16);
  EXPECT_THAT(user_error_of([&] { decode_image(ok, "ok.jpg", 0, 255); }),
              HasSubstr("ok.jpg: image of 16x16 pixels is larger than the limit of 255 pixels"));
}

}  // namespace
}  // namespace thaw
