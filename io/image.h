#pragma once
// A decoded 8-bit RGB image, rows top to bottom, pixels interleaved (HWC), as the eye sees it (EXIF
// orientation already applied).
#include <cstdint>
#include <vector>

namespace thaw {

struct Image {
  int64_t width = 0, height = 0;
  std::vector<uint8_t> rgb;  // height * width * 3

  const uint8_t* row(int64_t y) const { return rgb.data() + y * width * 3; }
};

// EXIF orientation (1..8, TIFF tag 0x0112): how the stored pixels must be turned to stand upright.
// 1 as stored; 2 mirror left-right; 3 rotate 180; 4 mirror top-bottom; 5 transpose (mirror about the
// main diagonal); 6 rotate 90 clockwise; 7 transverse (mirror about the anti-diagonal); 8 rotate
// 90 counter-clockwise. Anything else is treated as 1.
Image apply_orientation(const Image& stored, int orientation);

}  // namespace thaw
