#pragma once
// An 8-bit test image whose samples vary from one to the next without repeating soon, so that a
// resampling or orientation mistake shows in the output.
#include <cstdint>

#include "io/image.h"

namespace thaw::testing {

inline Image patterned_image(int64_t w, int64_t h) {
  Image img;
  img.width = w;
  img.height = h;
  img.rgb.resize(static_cast<size_t>(w * h * 3));
  for (size_t i = 0; i < img.rgb.size(); ++i) img.rgb[i] = static_cast<uint8_t>((i * 53 + i / 7) % 256);
  return img;
}

}  // namespace thaw::testing
