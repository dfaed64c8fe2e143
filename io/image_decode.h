#pragma once
// Reading JPEG (libjpeg-turbo), PNG (libpng), TIFF (libtiff) and DICOM (GDCM) files into RGB. The
// format is recognised by its first bytes, not the file name. Grey becomes three equal channels,
// alpha is dropped, palettes are expanded; JPEG EXIF and TIFF orientation are applied. Samples of
// more than 8 bits and DICOM's values are mapped by io/pixel_mapping.h's rule and kept at full
// precision (Image::rgb16). A missing, unreadable, truncated or corrupt file, or another format, is
// a UserError naming the file.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "io/image.h"
#include "io/pixel_mapping.h"

namespace thaw {

// Larger images are refused (a corrupt or hostile header must not make thaw allocate gigabytes):
// the default of --max-image-pixels (2^28 pixels: 768 MiB of 8-bit RGB while one image decodes),
// and the most a pack stores.
inline constexpr int64_t kMaxImagePixels = int64_t{1} << 28;
// The most --max-image-pixels accepts: 2^32 pixels, 12 GiB of RGB for one image.
inline constexpr int64_t kMaxImagePixelsFlag = int64_t{1} << 32;
inline constexpr size_t kMaxPngChunkBytes = size_t{8} << 20;  // one ancillary chunk (text, profile)
inline constexpr int kMaxJpegScans = 500;                       // a progressive JPEG's passes

// Whether a file that starts with these bytes (132 are enough) is one of the formats read here.
bool starts_as_image(std::string_view first_bytes);

struct ImageHeader {
  std::string format;           // "jpeg", "png", "tiff" or "dicom"
  int64_t width = 0, height = 0;  // upright (after EXIF orientation)
  int orientation = 1;
};

// `name` is used in messages. The header alone: cheap, for statistics over a whole data set.
// max_pixels: images with more pixels (as decoded) are refused before their pixels are allocated.
ImageHeader read_image_header(std::string_view bytes, const std::string& name, int64_t max_pixels = kMaxImagePixels,
                              const PixelMapping& mapping = {});

// min_short_side > 0 lets a JPEG decode at 1/2, 1/4 or 1/8 of its size through libjpeg-turbo's DCT
// scaling: the smallest of these whose shorter side is still >= min_short_side. Other formats always
// decode at full size. `mapping` is the DICOM window and frame (io/pixel_mapping.h).
Image decode_image(std::string_view bytes, const std::string& name, int64_t min_short_side = 0,
                   int64_t max_pixels = kMaxImagePixels, const PixelMapping& mapping = {});
Image read_image(const std::filesystem::path& path, int64_t min_short_side = 0, int64_t max_pixels = kMaxImagePixels,
                 const PixelMapping& mapping = {});

// Which DCT scale denominator (1, 2, 4 or 8) a w x h JPEG decodes at for min_short_side.
int jpeg_scale_denom(int64_t width, int64_t height, int64_t min_short_side);

// For the per-format decoders (io/jpeg_decode.cc, io/png_decode.cc, io/tiff_decode.cc,
// io/dicom_decode.cc).
ImageHeader read_jpeg_header(std::string_view bytes, const std::string& name);
Image decode_jpeg(std::string_view bytes, const std::string& name, int64_t min_short_side, int64_t max_pixels);
ImageHeader read_png_header(std::string_view bytes, const std::string& name, int64_t max_pixels);
Image decode_png(std::string_view bytes, const std::string& name, int64_t max_pixels);
ImageHeader read_tiff_header(std::string_view bytes, const std::string& name, int64_t max_pixels);
Image decode_tiff(std::string_view bytes, const std::string& name, int64_t max_pixels);
ImageHeader read_dicom_header(std::string_view bytes, const std::string& name, int64_t max_pixels,
                              const PixelMapping& mapping);
Image decode_dicom(std::string_view bytes, const std::string& name, int64_t max_pixels, const PixelMapping& mapping);
// `pixels` when it is a limit --max-image-pixels accepts (1 to kMaxImagePixelsFlag), else a UserError.
int64_t checked_max_image_pixels(int64_t pixels);
// The one-line refusal of an image over max_pixels.
[[noreturn]] void fail_too_many_pixels(const std::string& name, int64_t width, int64_t height, int64_t max_pixels);

}  // namespace thaw
