#include "io/augment.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/error.h"

namespace thaw {

namespace {

// Fixed positions in the sample's random stream; the crop uses 0..39 (4 per attempt).
constexpr int kCropAttempts = 10;
constexpr uint64_t kPosHflip = 40, kPosVflip = 41, kPosRotate = 42, kPosBrightness = 43, kPosContrast = 44;

void normalise(float* chw, int64_t n) {
  for (int64_t i = 0; i < n; ++i) chw[i] = (chw[i] / 255.0f - 0.5f) / 0.5f;
}

// chw[i] = normalised clamp(f * chw[i] + offset, 0, 255), eight at a time. std::clamp's branches
// keep the compiler from vectorising the plain loop; the element-wise selects here give the same
// values (an input is never NaN, and the sign of a zero vanishes in the normalisation).
void blend_normalise(float* chw, int64_t n, float f, float offset) {
  using v8 = float __attribute__((vector_size(32)));
  const v8 zero = {}, top = zero + 255.0f;
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    v8 v;
    std::memcpy(&v, chw + i, sizeof v);
    v = f * v + offset;
    v = v < zero ? zero : v;
    v = top < v ? top : v;
    v = (v / 255.0f - 0.5f) / 0.5f;
    std::memcpy(chw + i, &v, sizeof v);
  }
  for (; i < n; ++i) {
    const float v = std::clamp(f * chw[i] + offset, 0.0f, 255.0f);
    chw[i] = (v / 255.0f - 0.5f) / 0.5f;
  }
}

double uniform(const CounterRng& rng, uint64_t pos, double lo, double hi) {
  return lo + (hi - lo) * rng.uniform_double_at(pos);
}

}  // namespace

void validate_augment(const AugmentConfig& c) {
  if (!(c.scale_min > 0 && c.scale_min <= c.scale_max && c.scale_max <= 1)) {
    fail_user("--rrc-scale: expected 0 < min <= max <= 1, got ", c.scale_min, ",", c.scale_max);
  }
  if (!(c.ratio_min > 0 && c.ratio_min <= c.ratio_max && std::isfinite(c.ratio_max))) {
    fail_user("--rrc-ratio: expected 0 < min <= max, got ", c.ratio_min, ",", c.ratio_max);
  }
  if (!(c.brightness >= 0 && c.brightness < 1)) fail_user("--brightness: expected a value in [0, 1), got ", c.brightness);
  if (!(c.contrast >= 0 && c.contrast < 1)) fail_user("--contrast: expected a value in [0, 1), got ", c.contrast);
}

int64_t eval_resize_short_side(int64_t size) { return size * 8 / 7; }

Box eval_box(int64_t width, int64_t height, int64_t size) {
  const int64_t s = eval_resize_short_side(size);
  int64_t rw = s, rh = s;
  if (width < height) {
    rh = s * height / width;
  } else if (height < width) {
    rw = s * width / height;
  }
  const double left = std::nearbyint(static_cast<double>(rw - size) / 2.0);
  const double top = std::nearbyint(static_cast<double>(rh - size) / 2.0);
  const double sx = static_cast<double>(width) / static_cast<double>(rw);
  const double sy = static_cast<double>(height) / static_cast<double>(rh);
  return {left * sx, top * sy, (left + static_cast<double>(size)) * sx, (top + static_cast<double>(size)) * sy};
}

Box random_resized_crop(int64_t width, int64_t height, const AugmentConfig& cfg, const CounterRng& rng) {
  const double area = static_cast<double>(width) * static_cast<double>(height);
  const double log_lo = std::log(cfg.ratio_min), log_hi = std::log(cfg.ratio_max);
  for (int k = 0; k < kCropAttempts; ++k) {
    const uint64_t p = 4 * static_cast<uint64_t>(k);
    const double target = area * uniform(rng, p, cfg.scale_min, cfg.scale_max);
    const double aspect = std::exp(uniform(rng, p + 1, log_lo, log_hi));
    const int64_t w = std::llround(std::sqrt(target * aspect));
    const int64_t h = std::llround(std::sqrt(target / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const int64_t top = static_cast<int64_t>(rng.uniform_double_at(p + 2) * static_cast<double>(height - h + 1));
      const int64_t left = static_cast<int64_t>(rng.uniform_double_at(p + 3) * static_cast<double>(width - w + 1));
      return {static_cast<double>(left), static_cast<double>(top), static_cast<double>(left + w),
              static_cast<double>(top + h)};
    }
  }
  // No draw fitted: the largest centred crop whose aspect ratio is within range.
  const double in_ratio = static_cast<double>(width) / static_cast<double>(height);
  int64_t w = width, h = height;
  if (in_ratio < cfg.ratio_min) {
    h = std::max<int64_t>(1, std::llround(static_cast<double>(w) / cfg.ratio_min));
  } else if (in_ratio > cfg.ratio_max) {
    w = std::max<int64_t>(1, std::llround(static_cast<double>(h) * cfg.ratio_max));
  }
  const int64_t top = (height - h) / 2, left = (width - w) / 2;
  return {static_cast<double>(left), static_cast<double>(top), static_cast<double>(left + w),
          static_cast<double>(top + h)};
}

int64_t decode_min_short_side(int64_t size, bool train, const AugmentConfig& cfg) {
  if (!train) return eval_resize_short_side(size);
  return static_cast<int64_t>(std::ceil(static_cast<double>(size) / std::sqrt(cfg.scale_min)));
}

void preprocess_eval(const Image& img, int64_t size, float* chw) {
  resample_rgb(img, eval_box(img.width, img.height, size), size, size, chw);
  normalise(chw, 3 * size * size);
}

void preprocess_train(const Image& img, int64_t size, const AugmentConfig& cfg, const CounterRng& rng, float* chw) {
  const int64_t plane = size * size;
  Orientation o;
  o.hflip = cfg.flips && rng.uniform_double_at(kPosHflip) < 0.5;
  o.vflip = cfg.flips && rng.uniform_double_at(kPosVflip) < 0.5;
  o.turns = cfg.rotations ? static_cast<int>(rng.uniform_double_at(kPosRotate) * 4.0) : 0;
  // The crop is resampled straight into its flipped and turned place: no second copy.
  resample_rgb(img, random_resized_crop(img.width, img.height, cfg, rng), size, size, chw, o);
  float* r = chw;
  float* g = chw + plane;
  float* b = chw + 2 * plane;
  const float bf = cfg.brightness > 0
                       ? static_cast<float>(uniform(rng, kPosBrightness, 1.0 - cfg.brightness, 1.0 + cfg.brightness))
                       : 1.0f;
  if (cfg.contrast > 0) {
    const float f = static_cast<float>(uniform(rng, kPosContrast, 1.0 - cfg.contrast, 1.0 + cfg.contrast));
    // Brightness and the mean grey level in one pass; the sum runs in pixel order, in double.
    double grey = 0;
    for (int64_t i = 0; i < plane; ++i) {
      if (cfg.brightness > 0) {
        r[i] = std::min(r[i] * bf, 255.0f);
        g[i] = std::min(g[i] * bf, 255.0f);
        b[i] = std::min(b[i] * bf, 255.0f);
      }
      grey += 0.299 * r[i] + 0.587 * g[i] + 0.114 * b[i];
    }
    const float mean = static_cast<float>(grey / static_cast<double>(plane));
    blend_normalise(chw, 3 * plane, f, (1.0f - f) * mean);
    return;
  }
  if (cfg.brightness > 0) {
    for (int64_t i = 0; i < 3 * plane; ++i) chw[i] = std::min(chw[i] * bf, 255.0f);
  }
  normalise(chw, 3 * plane);
}

}  // namespace thaw
