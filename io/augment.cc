#include "io/augment.h"

#include <algorithm>
#include <cmath>
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

// out(x, y) = in(source of (x, y)) on each of 3 square planes: flips then `turns` quarter turns
// counter-clockwise.
void flip_rotate(const float* in, int64_t size, bool hflip, bool vflip, int turns, float* out) {
  const int64_t plane = size * size;
  for (int64_t y = 0; y < size; ++y) {
    for (int64_t x = 0; x < size; ++x) {
      // Undo the rotation, then the flips, to find where (x, y) reads from.
      int64_t sx = x, sy = y;
      for (int t = 0; t < turns; ++t) {
        const int64_t nx = size - 1 - sy, ny = sx;  // inverse of one counter-clockwise quarter turn
        sx = nx;
        sy = ny;
      }
      if (vflip) sy = size - 1 - sy;
      if (hflip) sx = size - 1 - sx;
      for (int64_t c = 0; c < 3; ++c) out[c * plane + y * size + x] = in[c * plane + sy * size + sx];
    }
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
  std::vector<float> crop(static_cast<size_t>(3 * plane));
  resample_rgb(img, random_resized_crop(img.width, img.height, cfg, rng), size, size, crop.data());
  const bool hflip = cfg.flips && rng.uniform_double_at(kPosHflip) < 0.5;
  const bool vflip = cfg.flips && rng.uniform_double_at(kPosVflip) < 0.5;
  const int turns = cfg.rotations ? static_cast<int>(rng.uniform_double_at(kPosRotate) * 4.0) : 0;
  flip_rotate(crop.data(), size, hflip, vflip, turns, chw);
  if (cfg.brightness > 0) {
    const float f = static_cast<float>(uniform(rng, kPosBrightness, 1.0 - cfg.brightness, 1.0 + cfg.brightness));
    for (int64_t i = 0; i < 3 * plane; ++i) chw[i] = std::min(chw[i] * f, 255.0f);
  }
  if (cfg.contrast > 0) {
    const float f = static_cast<float>(uniform(rng, kPosContrast, 1.0 - cfg.contrast, 1.0 + cfg.contrast));
    double grey = 0;  // summed in pixel order: the same on every run
    for (int64_t i = 0; i < plane; ++i) {
      grey += 0.299 * chw[i] + 0.587 * chw[plane + i] + 0.114 * chw[2 * plane + i];
    }
    const float mean = static_cast<float>(grey / static_cast<double>(plane));
    for (int64_t i = 0; i < 3 * plane; ++i) chw[i] = std::clamp(f * chw[i] + (1.0f - f) * mean, 0.0f, 255.0f);
  }
  normalise(chw, 3 * plane);
}

}  // namespace thaw
