#include "io/image_facts.h"

#include <xxhash.h>

#include "core/error.h"
#include "io/file_bytes.h"
#include "io/image_decode.h"

namespace thaw {

ImageFacts inspect_image_file(const std::filesystem::path& path, int64_t max_pixels, const PixelMapping& mapping) {
  ImageFacts f;
  try {
    const std::string bytes = read_file_bytes(path);
    const XXH128_hash_t h = XXH3_128bits(bytes.data(), bytes.size());
    f.hash_high = h.high64;
    f.hash_low = h.low64;
    const ImageHeader header = read_image_header(bytes, path.string(), max_pixels, mapping);
    decode_image(bytes, path.string(), 1, max_pixels, mapping);
    f.format = header.format;
    f.width = header.width;
    f.height = header.height;
  } catch (const UserError& e) {
    f.error = e.what();
  }
  return f;
}

}  // namespace thaw
