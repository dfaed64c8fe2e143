#include "io/resample.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"

namespace thaw {

namespace {

// For each output index along one axis: the first source index and the normalised weights.
struct AxisFilter {
  std::vector<int64_t> first;
  std::vector<int64_t> count;
  int64_t max_taps = 0;
  std::vector<float> weights;  // out * max_taps, zero-padded
};

AxisFilter axis_filter(int64_t in_size, double in0, double in1, int64_t out_size) {
  AxisFilter f;
  const double scale = (in1 - in0) / static_cast<double>(out_size);
  const double widen = std::max(scale, 1.0);  // the triangle's half-width, in source pixels
  const double support = widen;
  f.max_taps = static_cast<int64_t>(std::ceil(support)) * 2 + 1;
  f.first.resize(out_size);
  f.count.resize(out_size);
  f.weights.assign(static_cast<size_t>(out_size * f.max_taps), 0.0f);
  std::vector<double> w(static_cast<size_t>(f.max_taps));
  for (int64_t o = 0; o < out_size; ++o) {
    const double centre = in0 + (static_cast<double>(o) + 0.5) * scale;
    const int64_t lo = std::max<int64_t>(static_cast<int64_t>(std::floor(centre - support + 0.5)), 0);
    const int64_t hi = std::min<int64_t>(static_cast<int64_t>(std::floor(centre + support + 0.5)), in_size);
    int64_t n = std::min(hi - lo, f.max_taps);
    double total = 0;
    for (int64_t k = 0; k < n; ++k) {
      // Distance from the filter centre to source pixel lo + k's centre, in filter units.
      const double d = std::abs((static_cast<double>(lo + k) + 0.5 - centre) / widen);
      w[k] = std::max(0.0, 1.0 - d);
      total += w[k];
    }
    if (n <= 0 || total <= 0) {
      // The region lies past the image's edge (it cannot for boxes inside the image): nearest pixel.
      const int64_t nearest = std::clamp<int64_t>(static_cast<int64_t>(std::floor(centre)), 0, in_size - 1);
      f.first[o] = nearest;
      f.count[o] = 1;
      f.weights[o * f.max_taps] = 1.0f;
      continue;
    }
    f.first[o] = lo;
    f.count[o] = n;
    for (int64_t k = 0; k < n; ++k) f.weights[o * f.max_taps + k] = static_cast<float>(w[k] / total);
  }
  return f;
}

// Where upright pixel (x, y) goes in the oriented plane: first + x * dx + y * dy.
struct Placement {
  int64_t first = 0, dx = 1, dy = 0;
};

Placement placement(const Orientation& o, int64_t w, int64_t h) {
  THAW_CHECK(o.turns >= 0 && o.turns < 4 && (o.turns == 0 || w == h), "resample_rgb: bad orientation ", o.turns,
             " turns of ", w, "x", h);
  const auto to = [&](int64_t x, int64_t y) {
    if (o.hflip) x = w - 1 - x;
    if (o.vflip) y = h - 1 - y;
    for (int t = 0; t < o.turns; ++t) {  // (a, b) lands on (b, size - 1 - a)
      const int64_t nx = y, ny = w - 1 - x;
      x = nx;
      y = ny;
    }
    return y * w + x;
  };
  const int64_t first = to(0, 0);
  return {first, to(1, 0) - first, to(0, 1) - first};
}

// A source sample in grey levels 0..255: 8-bit as it is, full precision (Image::rgb16) v / 257, so
// that a 16-bit image of 257 * u gives exactly the floats of the 8-bit image u.
float level(uint8_t v) { return static_cast<float>(v); }
float level(uint16_t v) { return static_cast<float>(v) / 257.0f; }

template <typename T>
void horizontal_pass(const T* in, const AxisFilter& fx, int64_t out_w, float* out) {
  for (int64_t x = 0; x < out_w; ++x) {
    const float* w = fx.weights.data() + x * fx.max_taps;
    const T* p = in + fx.first[x] * 3;
    float r = 0, g = 0, b = 0;
    for (int64_t k = 0; k < fx.count[x]; ++k) {
      r += w[k] * level(p[3 * k]);
      g += w[k] * level(p[3 * k + 1]);
      b += w[k] * level(p[3 * k + 2]);
    }
    out[3 * x] = r;
    out[3 * x + 1] = g;
    out[3 * x + 2] = b;
  }
}

}  // namespace

void resample_rgb(const Image& src, const Box& box, int64_t out_w, int64_t out_h, float* chw,
                  const Orientation& orientation) {
  THAW_CHECK(src.width > 0 && src.height > 0 && out_w > 0 && out_h > 0 && box.x1 > box.x0 && box.y1 > box.y0,
             "resample_rgb: bad sizes ", src.width, "x", src.height, " -> ", out_w, "x", out_h);
  const Placement at = placement(orientation, out_w, out_h);
  const AxisFilter fx = axis_filter(src.width, box.x0, box.x1, out_w);
  const AxisFilter fy = axis_filter(src.height, box.y0, box.y1, out_h);
  // The horizontal pass's rows live in a ring of max_taps rows: an output row reads at most that
  // many consecutive source rows, and the windows only move down, so a row is overwritten only
  // after the last output row that reads it (and no large buffer is allocated per image).
  const int64_t ring = fy.max_taps;
  std::vector<float> mid(static_cast<size_t>(ring * out_w * 3));
  int64_t next_row = 0;  // source rows below this one have been through the horizontal pass
  const auto horizontal = [&](int64_t y) {
    float* out = mid.data() + (y % ring) * out_w * 3;
    if (src.high_precision()) {
      horizontal_pass(src.row16(y), fx, out_w, out);
    } else {
      horizontal_pass(src.row(y), fx, out_w, out);
    }
  };
  const int64_t plane = out_w * out_h;
  std::vector<float> acc(static_cast<size_t>(out_w * 3));
  for (int64_t y = 0; y < out_h; ++y) {
    next_row = std::max(next_row, fy.first[y]);
    for (; next_row < fy.first[y] + fy.count[y]; ++next_row) horizontal(next_row);
    std::fill(acc.begin(), acc.end(), 0.0f);
    const float* w = fy.weights.data() + y * fy.max_taps;
    for (int64_t k = 0; k < fy.count[y]; ++k) {
      const float* in = mid.data() + ((fy.first[y] + k) % ring) * out_w * 3;
      for (int64_t i = 0; i < out_w * 3; ++i) acc[i] += w[k] * in[i];
    }
    float* row = chw + at.first + y * at.dy;
    if (at.dx == 1) {  // upright or mirrored top-bottom: rows stay rows (the common case, kept simple)
      for (int64_t x = 0; x < out_w; ++x) {
        for (int64_t c = 0; c < 3; ++c) row[c * plane + x] = std::clamp(acc[3 * x + c], 0.0f, 255.0f);
      }
      continue;
    }
    for (int64_t x = 0; x < out_w; ++x) {
      for (int64_t c = 0; c < 3; ++c) row[c * plane + x * at.dx] = std::clamp(acc[3 * x + c], 0.0f, 255.0f);
    }
  }
}

}  // namespace thaw
