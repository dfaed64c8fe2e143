#pragma once
// What `thaw data check` learns about one image file: its format and upright size, a hash of its
// bytes (duplicates are files with equal hashes), and whether it decodes at all.
#include <cstdint>
#include <filesystem>
#include <string>

#include "io/pixel_mapping.h"

namespace thaw {

struct ImageFacts {
  std::string format;  // "jpeg", "png", "tiff" or "dicom"; empty when unreadable
  int64_t width = 0, height = 0;
  uint64_t hash_high = 0, hash_low = 0;  // XXH3-128 of the file's bytes
  std::string error;  // the UserError's message when the file is missing, unreadable or corrupt

  bool same_content(const ImageFacts& o) const { return hash_high == o.hash_high && hash_low == o.hash_low; }
};

// Reads and hashes the file and decodes all of it (JPEGs at 1/8 scale through DCT scaling: every
// entropy-coded byte is still read, so truncation and corruption are found, at a fraction of the
// cost). Never throws a UserError: problems go to `error`.
// Images of more than max_pixels are unreadable (io/image_decode.h); a DICOM file is read at the
// frame `mapping` names.
ImageFacts inspect_image_file(const std::filesystem::path& path, int64_t max_pixels, const PixelMapping& mapping = {});

}  // namespace thaw
