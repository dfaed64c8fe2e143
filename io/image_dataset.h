#pragma once
// One split of an image manifest as a Dataset: each load reads and decodes the file (JPEG with DCT
// scaling where the image is much larger than needed), then preprocesses it for evaluation or
// augments it for training (io/augment.h). Augmentation is keyed by the record's index in the
// whole manifest, so a sample's pixels do not depend on which split or subset it is seen through.
#include <filesystem>

#include "io/augment.h"
#include "io/dataset.h"
#include "io/image_manifest.h"
#include "io/pixel_mapping.h"

namespace thaw {

class ImageDataset final : public Dataset {
 public:
  // max_pixels: larger images are refused as unreadable (io/image_decode.h); mapping: the DICOM
  // window and frame (io/pixel_mapping.h).
  ImageDataset(const ImageManifest& m, DataSplit split, uint64_t seed, const AugmentConfig& augment,
               int64_t max_pixels, const PixelMapping& mapping = {});
  int64_t size() const override { return static_cast<int64_t>(paths_.size()); }
  int64_t num_classes() const override { return static_cast<int64_t>(class_names_.size()); }
  std::vector<std::string> class_names() const override { return class_names_; }
  int32_t label(int64_t i) const override { return labels_[static_cast<size_t>(i)]; }
  void load(int64_t i, int64_t size, LoadMode mode, float* chw) const override;
  std::string describe() const override;
  std::string content_hash(int64_t i) const override;  // SHA-256 of the file's bytes

  const std::filesystem::path& path(int64_t i) const { return paths_[static_cast<size_t>(i)]; }
  std::string source_path(int64_t i) const override { return path(i).string(); }
  std::string group(int64_t i) const override { return groups_[static_cast<size_t>(i)]; }

 private:
  std::vector<std::filesystem::path> paths_;
  std::vector<int32_t> labels_;
  std::vector<std::string> groups_;
  std::vector<uint32_t> keys_;  // index in the manifest: the augmentation's sample index
  std::vector<std::string> class_names_;
  uint64_t seed_;
  AugmentConfig augment_;
  int64_t max_pixels_;
  PixelMapping mapping_;
  std::string name_;
};

}  // namespace thaw
