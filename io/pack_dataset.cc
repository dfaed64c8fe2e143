#include "io/pack_dataset.h"

#include <cstring>

#include "core/error.h"
#include "core/philox.h"
#include "core/sha256.h"
#include "io/image.h"
#include "io/image_manifest.h"
#include "io/datasets.h"

namespace thaw {

std::shared_ptr<const PackData> PackData::open(const std::filesystem::path& dir) {
  auto d = std::make_shared<PackData>();
  d->dir = dir;
  d->manifest = read_pack_manifest(dir);
  for (const PackShard& s : d->manifest.shards) {
    const std::filesystem::path p = dir / s.file;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(p, ec)) {
      fail_user(p.string(), ": shard named in ", (dir / kPackManifestName).string(), " is missing");
    }
    MappedFile f(p);
    if (static_cast<int64_t>(f.size()) != s.bytes) {
      fail_user(p.string(), ": shard is ", f.size(), " bytes, ", kPackManifestName, " says ", s.bytes,
                " (truncated or replaced; pack the data again)");
    }
    if (f.size() < kShardHeaderBytes || std::memcmp(f.data(), kShardMagic, sizeof kShardMagic) != 0) {
      fail_user(p.string(), ": not a thaw pack shard");
    }
    d->shards.push_back(std::move(f));
  }
  return d;
}

std::string_view PackData::pixels(size_t sample) const {
  const PackSample& s = manifest.samples[sample];
  return shards[static_cast<size_t>(s.shard)].bytes().substr(static_cast<size_t>(s.offset),
                                                                static_cast<size_t>(manifest.sample_bytes(sample)));
}

PackDataset::PackDataset(std::shared_ptr<const PackData> data, DataSplit split, const DataOptions& options)
    : data_(std::move(data)), seed_(options.seed), augment_(options.augment),
      name_(cat_str(data_->dir.string(), " ", split_name(split))) {
  validate_augment(augment_);
  const PackManifest& pm = data_->manifest;
  // The split as image data would draw it: the same records, paths, labels and groups.
  ImageManifest m;
  m.source = data_->dir.string();
  m.class_names = pm.class_names;
  m.has_split_column = pm.has_split_column;
  m.has_group_column = pm.has_group_column;
  for (const PackSample& s : pm.samples) {
    ImageRecord r;
    r.path = s.path;
    r.label = s.label;
    r.split = s.split;
    r.group = s.group;
    m.records.push_back(std::move(r));
  }
  apply_split_options(m, options);
  for (size_t i = 0; i < m.records.size(); ++i) {
    if (m.records[i].split == split) samples_.push_back(i);
  }
}

void PackDataset::load(int64_t i, int64_t size, LoadMode mode, float* chw) const {
  const PackManifest& pm = data_->manifest;
  if (size > pm.input_size) {
    fail_user("--input-size ", size, ": the pack ", data_->dir.string(), " was made for --input-size ", pm.input_size,
              " and stores too few pixels for more; pack it again with --input-size ", size);
  }
  const size_t k = samples_[static_cast<size_t>(i)];
  const PackSample& s = pm.samples[k];
  const std::string_view px = data_->pixels(k);
  Image img;
  img.width = s.width;
  img.height = s.height;
  img.rgb.assign(px.begin(), px.end());
  if (!mode.train) {
    preprocess_eval(img, size, chw);
    return;
  }
  const CounterRng rng(seed_, RngPurpose::Augment, static_cast<uint32_t>(mode.epoch), static_cast<uint32_t>(s.key));
  preprocess_train(img, size, augment_, rng, chw);
}

std::string PackDataset::content_hash(int64_t i) const {
  return sha256_hex(data_->pixels(samples_[static_cast<size_t>(i)]));
}

std::string PackDataset::describe() const {
  return cat_str(name_, ": ", size(), " packed images, ", num_classes(), " classes");
}

}  // namespace thaw
