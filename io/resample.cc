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

}  // namespace

void resample_rgb(const Image& src, const Box& box, int64_t out_w, int64_t out_h, float* chw) {
  THAW_CHECK(src.width > 0 && src.height > 0 && out_w > 0 && out_h > 0 && box.x1 > box.x0 && box.y1 > box.y0,
             "resample_rgb: bad sizes ", src.width, "x", src.height, " -> ", out_w, "x", out_h);
  const AxisFilter fx = axis_filter(src.width, box.x0, box.x1, out_w);
  const AxisFilter fy = axis_filter(src.height, box.y0, box.y1, out_h);
  const int64_t row_lo = fy.first.front();
  int64_t row_hi = 0;
  for (int64_t o = 0; o < out_h; ++o) row_hi = std::max(row_hi, fy.first[o] + fy.count[o]);
  // Horizontal pass over the source rows the vertical pass reads: rows x out_w x 3.
  std::vector<float> mid(static_cast<size_t>((row_hi - row_lo) * out_w * 3));
  for (int64_t y = row_lo; y < row_hi; ++y) {
    const uint8_t* in = src.row(y);
    float* out = mid.data() + (y - row_lo) * out_w * 3;
    for (int64_t x = 0; x < out_w; ++x) {
      const float* w = fx.weights.data() + x * fx.max_taps;
      const uint8_t* p = in + fx.first[x] * 3;
      float r = 0, g = 0, b = 0;
      for (int64_t k = 0; k < fx.count[x]; ++k) {
        r += w[k] * static_cast<float>(p[3 * k]);
        g += w[k] * static_cast<float>(p[3 * k + 1]);
        b += w[k] * static_cast<float>(p[3 * k + 2]);
      }
      out[3 * x] = r;
      out[3 * x + 1] = g;
      out[3 * x + 2] = b;
    }
  }
  const int64_t plane = out_w * out_h;
  std::vector<float> acc(static_cast<size_t>(out_w * 3));
  for (int64_t y = 0; y < out_h; ++y) {
    std::fill(acc.begin(), acc.end(), 0.0f);
    const float* w = fy.weights.data() + y * fy.max_taps;
    for (int64_t k = 0; k < fy.count[y]; ++k) {
      const float* in = mid.data() + (fy.first[y] + k - row_lo) * out_w * 3;
      for (int64_t i = 0; i < out_w * 3; ++i) acc[i] += w[k] * in[i];
    }
    for (int64_t x = 0; x < out_w; ++x) {
      for (int64_t c = 0; c < 3; ++c) chw[c * plane + y * out_w + x] = std::clamp(acc[3 * x + c], 0.0f, 255.0f);
    }
  }
}

}  // namespace thaw
