#pragma once
// The one EXIF fact thaw needs: the orientation tag (0x0112) of IFD0, from a JPEG APP1 segment.
#include <cstddef>
#include <cstdint>

namespace thaw {

// `payload` is the APP1 segment's content after its length field ("Exif\0\0" then a TIFF header).
// Returns 1..8, or 1 when the segment is not EXIF, has no orientation tag, or is malformed (a bad
// EXIF block must not make a readable image unreadable). Never reads outside [payload, payload + n).
int exif_orientation(const uint8_t* payload, size_t n) noexcept;

}  // namespace thaw
