#include "io/image_decode.h"

#include <algorithm>
#include <optional>

#include "core/error.h"
#include "io/dicom_values.h"
#include "io/file_bytes.h"

namespace thaw {

namespace {

enum class Format { Jpeg, Png, Tiff, Dicom };

std::optional<Format> format_of(std::string_view b) {
  if (b.size() >= 3 && static_cast<uint8_t>(b[0]) == 0xFF && static_cast<uint8_t>(b[1]) == 0xD8 &&
      static_cast<uint8_t>(b[2]) == 0xFF) {
    return Format::Jpeg;
  }
  if (b.size() >= 8 && b.substr(0, 8) == std::string_view("\x89PNG\r\n\x1a\n", 8)) return Format::Png;
  // Before TIFF: a DICOM file's 128-byte preamble may itself be a TIFF header (PS3.10 7.1 lets a file
  // be both), and then the DICOM data are what the file is for.
  if (is_dicom(b)) return Format::Dicom;
  // Classic TIFF and BigTIFF, either byte order.
  if (b.size() >= 4 && (b.substr(0, 4) == std::string_view("II*\0", 4) || b.substr(0, 4) == "MM\0*" ||
                        b.substr(0, 4) == std::string_view("II+\0", 4) || b.substr(0, 4) == "MM\0+")) {
    return Format::Tiff;
  }
  return std::nullopt;
}

Format sniff(std::string_view b, const std::string& name) {
  if (const std::optional<Format> f = format_of(b)) return *f;
  if (b.empty()) fail_user(name, ": empty file (expected a JPEG, PNG, TIFF or DICOM image)");
  fail_user(name, ": not a JPEG, PNG, TIFF or DICOM image (unrecognised first bytes; DICOM needs its 128-byte "
            "preamble and DICM)");
}

}  // namespace

bool starts_as_image(std::string_view first_bytes) { return format_of(first_bytes).has_value(); }

ImageHeader read_image_header(std::string_view bytes, const std::string& name, int64_t max_pixels,
                              const PixelMapping& mapping) {
  switch (sniff(bytes, name)) {
    case Format::Jpeg: return read_jpeg_header(bytes, name);
    case Format::Png: return read_png_header(bytes, name, max_pixels);
    case Format::Tiff: return read_tiff_header(bytes, name, max_pixels);
    case Format::Dicom: break;
  }
  return read_dicom_header(bytes, name, max_pixels, mapping);
}

Image decode_image(std::string_view bytes, const std::string& name, int64_t min_short_side, int64_t max_pixels,
                   const PixelMapping& mapping) {
  switch (sniff(bytes, name)) {
    case Format::Jpeg: return decode_jpeg(bytes, name, min_short_side, max_pixels);
    case Format::Png: return decode_png(bytes, name, max_pixels);
    case Format::Tiff: return decode_tiff(bytes, name, max_pixels);
    case Format::Dicom: break;
  }
  return decode_dicom(bytes, name, max_pixels, mapping);
}

Image read_image(const std::filesystem::path& path, int64_t min_short_side, int64_t max_pixels,
                 const PixelMapping& mapping) {
  return decode_image(read_file_bytes(path), path.string(), min_short_side, max_pixels, mapping);
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
