#include "io/image.h"

#include <algorithm>

namespace thaw {

Image apply_orientation(const Image& stored, int orientation) {
  if (orientation < 2 || orientation > 8) return stored;
  const int64_t w = stored.width, h = stored.height;
  const bool swaps = orientation >= 5;
  Image out;
  out.width = swaps ? h : w;
  out.height = swaps ? w : h;
  out.rgb.resize(stored.rgb.size());
  // For each upright pixel (x, y), the stored pixel it comes from.
  for (int64_t y = 0; y < out.height; ++y) {
    uint8_t* dst = out.rgb.data() + y * out.width * 3;
    for (int64_t x = 0; x < out.width; ++x) {
      int64_t sx = x, sy = y;
      switch (orientation) {
        case 2: sx = w - 1 - x; break;
        case 3: sx = w - 1 - x; sy = h - 1 - y; break;
        case 4: sy = h - 1 - y; break;
        case 5: sx = y; sy = x; break;
        case 6: sx = y; sy = h - 1 - x; break;
        case 7: sx = w - 1 - y; sy = h - 1 - x; break;
        case 8: sx = w - 1 - y; sy = x; break;
        default: break;
      }
      const uint8_t* src = stored.rgb.data() + (sy * w + sx) * 3;
      std::copy(src, src + 3, dst + x * 3);
    }
  }
  return out;
}

}  // namespace thaw
