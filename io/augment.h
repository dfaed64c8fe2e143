#pragma once
// From a decoded image to the network's input, float [3, size, size] normalised with mean 0.5 and
// std 0.5 per channel.
//
// Evaluation, as timm's default eval transform for these weights: resize so that the shorter side
// is floor(size / 0.875) (the long side scaled in proportion, truncated, as torchvision's Resize),
// then take the centre size x size crop (offsets rounded half to even, as torchvision's
// CenterCrop). The filter is antialiased bilinear (io/resample.h); timm's config for
// inception_v4 names bicubic, so inputs differ from timm's by a few grey levels at most.
//
// Training: a random-resized crop (torchvision's RandomResizedCrop: up to 10 draws of area fraction
// and log aspect ratio, then the centre-crop fallback), resampled to size x size; a horizontal flip,
// a vertical flip and a rotation by a multiple of 90 degrees (lesions have no up); then brightness
// (multiply by a factor in [1-b, 1+b]) and contrast (blend with the mean grey level by a factor in
// [1-c, 1+c]), in that fixed order, clamped to [0, 255]. Every draw is a fixed position of one
// CounterRng keyed by (seed, Augment, epoch, sample index), so a sample's pixels depend on nothing else.
#include <cstdint>

#include "core/philox.h"
#include "io/image.h"
#include "io/resample.h"

namespace thaw {

struct AugmentConfig {
  double scale_min = 0.08, scale_max = 1.0;              // --rrc-scale: area fraction of the crop
  double ratio_min = 3.0 / 4.0, ratio_max = 4.0 / 3.0;   // --rrc-ratio: width / height of the crop
  bool flips = true;                                     // horizontal and vertical, each with p = 0.5
  bool rotations = true;                                 // 0, 90, 180, 270 degrees, each with p = 0.25
  double brightness = 0.2, contrast = 0.2;               // --brightness, --contrast; 0 turns one off
};

// UserErrors naming the flag for values outside their ranges.
void validate_augment(const AugmentConfig& cfg);

// floor(size / 0.875), in integers.
int64_t eval_resize_short_side(int64_t size);

// The source region that becomes the evaluation input: resize-then-centre-crop as one box.
Box eval_box(int64_t width, int64_t height, int64_t size);

// The random-resized crop of a width x height image drawn from `rng` (positions 0..39).
Box random_resized_crop(int64_t width, int64_t height, const AugmentConfig& cfg, const CounterRng& rng);

// The shorter side a JPEG may be reduced to by DCT scaling before preprocessing: for evaluation
// the resize target; for training the side at which the smallest allowed crop still has `size`
// pixels across, so crops are not upsampled from a reduced decode.
int64_t decode_min_short_side(int64_t size, bool train, const AugmentConfig& cfg);

void preprocess_eval(const Image& img, int64_t size, float* chw);
void preprocess_train(const Image& img, int64_t size, const AugmentConfig& cfg, const CounterRng& rng, float* chw);

}  // namespace thaw
