#include "io/exif.h"

#include <cstring>

namespace thaw {

namespace {

struct TiffReader {
  const uint8_t* p;
  size_t n;
  bool little;

  bool u16(size_t at, uint32_t& v) const {
    if (at > n || n - at < 2) return false;
    v = little ? (p[at] | (p[at + 1] << 8)) : ((p[at] << 8) | p[at + 1]);
    return true;
  }
  bool u32(size_t at, uint32_t& v) const {
    if (at > n || n - at < 4) return false;
    uint32_t b[4] = {p[at], p[at + 1], p[at + 2], p[at + 3]};
    v = little ? (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) : ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]);
    return true;
  }
};

constexpr uint32_t kOrientationTag = 0x0112;
constexpr uint32_t kTypeByte = 1;
constexpr uint32_t kTypeShort = 3;
constexpr uint32_t kTypeLong = 4;

}  // namespace

int exif_orientation(const uint8_t* payload, size_t n) noexcept {
  if (payload == nullptr || n < 6 + 8 || std::memcmp(payload, "Exif\0\0", 6) != 0) return 1;
  const uint8_t* tiff = payload + 6;
  const size_t tn = n - 6;
  TiffReader r{tiff, tn, false};
  if (tiff[0] == 'I' && tiff[1] == 'I') {
    r.little = true;
  } else if (!(tiff[0] == 'M' && tiff[1] == 'M')) {
    return 1;
  }
  uint32_t magic = 0, ifd = 0, count = 0;
  if (!r.u16(2, magic) || magic != 42 || !r.u32(4, ifd) || !r.u16(ifd, count)) return 1;
  for (uint32_t e = 0; e < count; ++e) {
    const size_t at = static_cast<size_t>(ifd) + 2 + static_cast<size_t>(e) * 12;
    uint32_t tag = 0, type = 0, values = 0, v = 0;
    if (!r.u16(at, tag) || !r.u16(at + 2, type) || !r.u32(at + 4, values)) return 1;
    if (tag != kOrientationTag) continue;
    // SHORT as the standard says; BYTE and LONG as some writers store it, and as other decoders
    // still read it (the value sits left-aligned in the 4-byte field).
    if (values != 1) return 1;
    bool read = false;
    if (type == kTypeShort) read = r.u16(at + 8, v);
    if (type == kTypeLong) read = r.u32(at + 8, v);
    if (type == kTypeByte && at + 8 < r.n) {
      v = r.p[at + 8];
      read = true;
    }
    if (!read) return 1;
    return v >= 1 && v <= 8 ? static_cast<int>(v) : 1;
  }
  return 1;
}

}  // namespace thaw
