#include "io/image_dataset.h"

#include <limits>

#include "core/error.h"
#include "core/philox.h"
#include "core/sha256.h"
#include "io/file_bytes.h"
#include "io/image_decode.h"

namespace thaw {

ImageDataset::ImageDataset(const ImageManifest& m, DataSplit split, uint64_t seed, const AugmentConfig& augment,
                           int64_t max_pixels, const PixelMapping& mapping)
    : class_names_(m.class_names), seed_(seed), augment_(augment), max_pixels_(max_pixels), mapping_(mapping),
      name_(cat_str(m.source, " ", split_name(split))) {
  validate_augment(augment_);
  if (m.records.size() > std::numeric_limits<uint32_t>::max()) {
    fail_user(m.source, ": more than 2^32 images are not supported");
  }
  for (size_t i = 0; i < m.records.size(); ++i) {
    const ImageRecord& r = m.records[i];
    if (r.split != split) continue;
    paths_.push_back(r.path);
    labels_.push_back(r.label);
    groups_.push_back(r.group);
    keys_.push_back(static_cast<uint32_t>(i));
  }
}

void ImageDataset::load(int64_t i, int64_t size, LoadMode mode, float* chw) const {
  const std::filesystem::path& p = paths_[static_cast<size_t>(i)];
  const Image img =
      decode_image(read_file_bytes(p), p.string(), decode_min_short_side(size, mode.train, augment_), max_pixels_, mapping_);
  if (!mode.train) {
    preprocess_eval(img, size, chw);
    return;
  }
  const CounterRng rng(seed_, RngPurpose::Augment, static_cast<uint32_t>(mode.epoch), keys_[static_cast<size_t>(i)]);
  preprocess_train(img, size, augment_, rng, chw);
}

std::string ImageDataset::content_hash(int64_t i) const {
  // A missing file is in the data only under --on-bad-image skip, which leaves it out of training;
  // the run record lists it as missing rather than failing to hash it.
  const std::filesystem::path& p = paths_[static_cast<size_t>(i)];
  std::error_code ec;
  if (!std::filesystem::exists(p, ec)) return "missing";
  return sha256_file_hex(p);
}

std::string ImageDataset::describe() const {
  return cat_str(name_, ": ", size(), " images, ", num_classes(), " classes");
}

}  // namespace thaw
