#pragma once
// A decoded RGB image, rows top to bottom, pixels interleaved (HWC), as the eye sees it (EXIF or
// TIFF orientation already applied).
#include <cstdint>
#include <vector>

namespace thaw {

struct Image {
  int64_t width = 0, height = 0;
  std::vector<uint8_t> rgb;  // height * width * 3
  // Sources of more than 8 bits (16-bit PNG and TIFF, DICOM after its value mapping,
  // io/pixel_mapping.h) keep their full precision here: 0..65535 stands for 0..255, a value v being
  // v / 257 grey levels, and rgb holds the same pixels rounded to 8 bits. Empty for 8-bit sources.
  // The network's input is resampled from this when present (io/resample.h).
  std::vector<uint16_t> rgb16;

  const uint8_t* row(int64_t y) const { return rgb.data() + y * width * 3; }
  const uint16_t* row16(int64_t y) const { return rgb16.data() + y * width * 3; }
  bool high_precision() const { return !rgb16.empty(); }
};

// An image from full-precision samples (height * width * 3, 0..65535): rgb16 as given, rgb each
// value rounded to the nearest of 0..255 (v / 257, halves up).
Image image_from_rgb16(int64_t width, int64_t height, std::vector<uint16_t> rgb16);

// EXIF orientation (1..8, TIFF tag 0x0112): how the stored pixels must be turned to stand upright.
// 1 as stored; 2 mirror left-right; 3 rotate 180; 4 mirror top-bottom; 5 transpose (mirror about the
// main diagonal); 6 rotate 90 clockwise; 7 transverse (mirror about the anti-diagonal); 8 rotate
// 90 counter-clockwise. Anything else is treated as 1. Both rgb and rgb16 are turned.
Image apply_orientation(const Image& stored, int orientation);

}  // namespace thaw
