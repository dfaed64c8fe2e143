#include "io/image_decode.h"

#include <algorithm>

#include "core/error.h"
#include "io/file_bytes.h"

namespace thaw {

namespace {

enum class Format { Jpeg, Png };

Format sniff(std::string_view b, const std::string& name) {
  if (b.size() >= 3 && static_cast<uint8_t>(b[0]) == 0xFF && static_cast<uint8_t>(b[1]) == 0xD8 &&
      static_cast<uint8_t>(b[2]) == 0xFF) {
    return Format::Jpeg;
  }
  if (b.size() >= 8 && b.substr(0, 8) == std::string_view("\x89PNG\r\n\x1a\n", 8)) return Format::Png;
  if (b.empty()) fail_user(name, ": empty file (expected a JPEG or PNG image)");
  fail_user(name, ": not a JPEG or PNG image (unrecognised first bytes)");
}

}  // namespace

ImageHeader read_image_header(std::string_view bytes, const std::string& name, int64_t max_pixels) {
  return sniff(bytes, name) == Format::Jpeg ? read_jpeg_header(bytes, name) : read_png_header(bytes, name, max_pixels);
}

Image decode_image(std::string_view bytes, const std::string& name, int64_t min_short_side, int64_t max_pixels) {
  return sniff(bytes, name) == Format::Jpeg ? decode_jpeg(bytes, name, min_short_side, max_pixels)
                                            : decode_png(bytes, name, max_pixels);
}

Image read_image(const std::filesystem::path& path, int64_t min_short_side, int64_t max_pixels) {
  return decode_image(read_file_bytes(path), path.string(), min_short_side, max_pixels);
}

int64_t checked_max_image_pixels(int64_t pixels) {
  if (pixels < 1 || pixels > kMaxImagePixelsFlag) {
    fail_user("--max-image-pixels: expected 1 to ", kMaxImagePixelsFlag, " pixels, got ", pixels);
  }
  return pixels;
}

void fail_too_many_pixels(const std::string& name, int64_t width, int64_t height, int64_t max_pixels) {
  fail_user(name, ": image of ", width, "x", height, " pixels is larger than the limit of ", max_pixels,
            " pixels (--max-image-pixels)");
}

int jpeg_scale_denom(int64_t width, int64_t height, int64_t min_short_side) {
  if (min_short_side <= 0) return 1;
  const int64_t short_side = std::min(width, height);
  for (int denom : {8, 4, 2}) {
    // libjpeg-turbo rounds scaled sizes up.
    if ((short_side + denom - 1) / denom >= min_short_side) return denom;
  }
  return 1;
}

}  // namespace thaw
