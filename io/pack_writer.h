#pragma once
// Writing a pack (io/pack_format.h) from an image manifest: every image is read, hashed, decoded
// (JPEGs with DCT scaling down to the stored side), reduced to the stored size and appended to the
// current shard; shards and then pack.json are written atomically (io/atomic_file.h).
#include <cstdint>
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "io/bad_image.h"
#include "io/image.h"
#include "io/image_decode.h"
#include "io/image_manifest.h"
#include "io/pack_format.h"

namespace thaw {

struct PackOptions {
  int64_t input_size = 299;
  int64_t side = 0;                          // 0: floor(input_size / 0.875), the evaluation resize
  int64_t shard_bytes = int64_t{1} << 30;    // a shard is closed before it would pass this size
  int workers = 0;                           // decoding threads; 0: one per core
  BadImagePolicy on_bad_image = BadImagePolicy::Fail;
  int64_t max_image_pixels = kMaxImagePixels;  // larger source images are unreadable
  PixelMapping pixel_mapping;                  // DICOM window and frame (io/pixel_mapping.h)
  bool overwrite = false;                    // replace a pack already in the folder
};

// The stored form of a decoded image: as it is when its shorter side is at most `side`, else
// resized so that the shorter side is `side` (the longer one in proportion, truncated).
Image pack_image(const Image& decoded, int64_t side);

// Writes the pack into `dir` (created if needed) and returns its manifest. A file that cannot be
// read is a UserError naming it (Fail), or is left out and listed in the manifest's "skipped"
// (Skip). `progress`, when given, gets a line now and then.
PackManifest write_pack(const ImageManifest& m, const std::filesystem::path& dir, const PackOptions& options,
                        std::ostream* progress = nullptr);

}  // namespace thaw
