#include "io/image.h"

#include <algorithm>

namespace thaw {

namespace {

// For each upright pixel (x, y) of `out`, the stored pixel it comes from.
template <typename T>
void orient(const std::vector<T>& stored, int64_t w, int64_t h, int orientation, int64_t out_w, int64_t out_h,
            std::vector<T>& out) {
  out.resize(stored.size());
  for (int64_t y = 0; y < out_h; ++y) {
    T* dst = out.data() + y * out_w * 3;
    for (int64_t x = 0; x < out_w; ++x) {
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
      const T* src = stored.data() + (sy * w + sx) * 3;
      std::copy(src, src + 3, dst + x * 3);
    }
  }
}

}  // namespace

Image image_from_rgb16(int64_t width, int64_t height, std::vector<uint16_t> rgb16) {
  Image img;
  img.width = width;
  img.height = height;
  img.rgb.resize(rgb16.size());
  // round(v / 257) in integers: floor((2v + 257) / 514).
  for (size_t i = 0; i < rgb16.size(); ++i) img.rgb[i] = static_cast<uint8_t>((2 * uint32_t{rgb16[i]} + 257) / 514);
  img.rgb16 = std::move(rgb16);
  return img;
}

Image apply_orientation(const Image& stored, int orientation) {
  if (orientation < 2 || orientation > 8) return stored;
  const int64_t w = stored.width, h = stored.height;
  const bool swaps = orientation >= 5;
  Image out;
  out.width = swaps ? h : w;
  out.height = swaps ? w : h;
  orient(stored.rgb, w, h, orientation, out.width, out.height, out.rgb);
  if (stored.high_precision()) orient(stored.rgb16, w, h, orientation, out.width, out.height, out.rgb16);
  return out;
}

}  // namespace thaw
