#pragma once
// One split of a pack (io/pack_format.h) as a Dataset. The shards are memory-mapped; a load copies
// the stored pixels out and preprocesses them exactly as ImageDataset does a decoded file:
// evaluation resizes the shorter side to floor(size / 0.875) and centre-crops (with the default
// stored side this is a plain crop of the stored pixels), training applies the keyed augmentation
// of io/augment.h to the stored image, with the source record's manifest index as the sample key.
// content_hash(i) is the SHA-256 of sample i's stored pixel bytes, computed from the shard.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "io/augment.h"
#include "io/dataset.h"
#include "io/datasets.h"
#include "io/mapped_file.h"
#include "io/pack_format.h"

namespace thaw {

// The manifest with its shards mapped, shared by the splits opened from it.
struct PackData {
  std::filesystem::path dir;
  PackManifest manifest;
  std::vector<MappedFile> shards;

  // Reads pack.json and maps every shard; a missing shard, one of another size than the manifest
  // says, or one without the shard header is a UserError naming it.
  static std::shared_ptr<const PackData> open(const std::filesystem::path& dir);
  std::string_view pixels(size_t sample) const;
};

class PackDataset final : public Dataset {
 public:
  // `options.val_fraction` carves validation out of the pack's train samples exactly as it would
  // out of the data the pack was made from (io/split.h on the same paths, labels and groups).
  PackDataset(std::shared_ptr<const PackData> data, DataSplit split, const DataOptions& options);
  int64_t size() const override { return static_cast<int64_t>(samples_.size()); }
  int64_t num_classes() const override { return static_cast<int64_t>(data_->manifest.class_names.size()); }
  std::vector<std::string> class_names() const override { return data_->manifest.class_names; }
  int32_t label(int64_t i) const override { return sample(i).label; }
  void load(int64_t i, int64_t size, LoadMode mode, float* chw) const override;
  std::string describe() const override;
  std::string content_hash(int64_t i) const override;
  std::string source_path(int64_t i) const override { return sample(i).path; }
  std::string group(int64_t i) const override { return sample(i).group; }

  const PackSample& sample(int64_t i) const { return data_->manifest.samples[samples_[static_cast<size_t>(i)]]; }

 private:
  std::shared_ptr<const PackData> data_;
  std::vector<size_t> samples_;  // indices into the manifest's samples
  uint64_t seed_;
  AugmentConfig augment_;
  std::string name_;
};

}  // namespace thaw
