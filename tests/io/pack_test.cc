// Packs: what `thaw pack` stores (sizes, hashes, keys, the shard layout), that a pack loads the same
// inputs as the images it came from (bit for bit where the images were not reduced, within half a
// grey level where they were), the --val-fraction split on a pack, shards split by size, stale
// shards removed, and the errors: unreadable images (fail or skip), a truncated or missing shard, a
// label outside the classes, an input size the pack is too small for.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/sha256.h"
#include "io/datasets.h"
#include "io/image_dataset.h"
#include "io/image_decode.h"
#include "io/image_manifest.h"
#include "io/pack_dataset.h"
#include "io/pack_writer.h"
#include "tests/io/io_test_support.h"

namespace thaw {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::run_python;
using testing::ScratchDir;
using testing::slurp;
using testing::spit;
using testing::user_error_of;

// Two classes of small images (shorter side at most 73, the stored side for input size 64) and one
// 400 x 300 photo-like JPEG that the pack reduces to 97 x 73.
constexpr const char* kScript = R"PY(
import os
import numpy as np
from PIL import Image
rng = np.random.default_rng(3)
def save(path, w, h):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)).save(path, quality=90)
for i in range(5):
    save("data/cat/c%d.%s" % (i, "png" if i % 2 else "jpg"), 40 + 7 * i, 70 - 5 * i)
    save("data/dog/d%d.%s" % (i, "jpg" if i % 2 else "png"), 66 - 3 * i, 48 + 4 * i)
yy, xx = np.mgrid[0:300, 0:400] / 40.0
photo = np.stack([np.sin(xx) * 60 + 120, np.cos(yy) * 50 + 110, np.sin(xx + yy) * 40 + 100], axis=2)
Image.fromarray(photo.clip(0, 255).astype(np.uint8)).save("data/dog/big.jpg", quality=95)
)PY";

constexpr int64_t kSize = 64;  // stored side floor(64 / 0.875) = 73

class Pack : public ::testing::Test {
 protected:
  void SetUp() override {
    THAW_REQUIRE_PYTHON("numpy, PIL");
    ASSERT_EQ(run_python(dir_, kScript), 0);
    options_.input_size = kSize;
    options_.workers = 2;
  }
  ImageManifest manifest() const { return scan_image_folder(dir_ / "data"); }
  ScratchDir dir_;
  PackOptions options_;
};

std::vector<float> load(const Dataset& d, int64_t i, LoadMode mode) {
  std::vector<float> x(static_cast<size_t>(3 * kSize * kSize));
  d.load(i, kSize, mode, x.data());
  return x;
}

TEST_F(Pack, StoresSizesHashesAndKeys) {
  const ImageManifest m = manifest();
  const PackManifest pm = write_pack(m, dir_ / "pack", options_);
  EXPECT_EQ(pm.side, 73);
  ASSERT_EQ(pm.samples.size(), 11u);
  EXPECT_EQ(pm.class_names, (std::vector<std::string>{"cat", "dog"}));
  ASSERT_EQ(pm.shards.size(), 1u);
  const std::string shard = slurp(dir_ / "pack" / pm.shards[0].file);
  EXPECT_EQ(static_cast<int64_t>(shard.size()), pm.shards[0].bytes);
  EXPECT_EQ(shard.substr(0, 12), std::string("THAWPACK\x01\0\0\0", 12));
  for (size_t i = 0; i < pm.samples.size(); ++i) {
    const PackSample& s = pm.samples[i];
    EXPECT_EQ(s.path, m.records[i].path.string());
    EXPECT_EQ(s.label, m.records[i].label);
    EXPECT_EQ(s.key, static_cast<int64_t>(i));
    EXPECT_EQ(s.offset % 64, 0);
    EXPECT_EQ(s.source_sha256, sha256_file_hex(m.records[i].path));
    EXPECT_EQ(s.sha256,
              sha256_hex(shard.substr(static_cast<size_t>(s.offset), static_cast<size_t>(pm.sample_bytes(i)))));
    const Image decoded = read_image(m.records[i].path);
    if (s.path.ends_with("big.jpg")) {
      EXPECT_EQ(s.width, 97);  // 73 * 100 / 75, from the 1/4-scale decode (100 x 75)
      EXPECT_EQ(s.height, 73);
    } else {
      EXPECT_EQ(s.width, decoded.width);
      EXPECT_EQ(s.height, decoded.height);
      EXPECT_EQ(shard.substr(static_cast<size_t>(s.offset), decoded.rgb.size()),
                std::string(decoded.rgb.begin(), decoded.rgb.end()));
    }
  }
  // The manifest on disk reads back as written.
  const PackManifest back = read_pack_manifest(dir_ / "pack");
  EXPECT_EQ(pack_manifest_json(back), pack_manifest_json(pm));
  const auto data = open_dataset((dir_ / "pack").string(), DataSplit::Train, {});
  EXPECT_EQ(data->size(), 11);
  EXPECT_EQ(data->content_hash(4), pm.samples[4].sha256);
  EXPECT_THAT(data->describe(), HasSubstr("11 packed images, 2 classes"));
  EXPECT_TRUE(is_image_data((dir_ / "pack").string()));
}

TEST_F(Pack, LoadsTheSameInputsAsTheImagesItCameFrom) {
  write_pack(manifest(), dir_ / "pack", options_);
  DataOptions opt;
  opt.seed = 9;
  const auto images = open_dataset((dir_ / "data").string(), DataSplit::Train, opt);
  const auto pack = open_dataset((dir_ / "pack").string(), DataSplit::Train, opt);
  ASSERT_EQ(images->size(), pack->size());
  int compared = 0;
  for (int64_t i = 0; i < pack->size(); ++i) {
    EXPECT_EQ(pack->label(i), images->label(i));
    const bool reduced = static_cast<const PackDataset&>(*pack).sample(i).path.ends_with("big.jpg");
    const std::vector<float> a = load(*images, i, LoadMode::eval()), b = load(*pack, i, LoadMode::eval());
    if (!reduced) {
      EXPECT_EQ(a, b) << "eval, sample " << i;
      for (int64_t epoch : {0, 3}) {
        EXPECT_EQ(load(*images, i, LoadMode::training(epoch)), load(*pack, i, LoadMode::training(epoch))) << i;
      }
      ++compared;
      continue;
    }
    // Stored rounded to whole grey levels at the evaluation resize: the centre crop differs by at
    // most half a level (plus float noise).
    double worst = 0;
    for (size_t k = 0; k < a.size(); ++k) worst = std::max(worst, std::abs(double(a[k]) - double(b[k])) * 127.5);
    EXPECT_LE(worst, 0.51);
    EXPECT_GT(worst, 0.0);  // it was reduced: not the same path
  }
  EXPECT_EQ(compared, 10);
}

TEST_F(Pack, ValidationFractionSplitsAPackAsItSplitsTheImages) {
  write_pack(manifest(), dir_ / "pack", options_);
  DataOptions opt;
  opt.seed = 4;
  opt.val_fraction = 0.4;
  const auto images = open_dataset((dir_ / "data").string(), DataSplit::Val, opt);
  const auto pack = open_dataset((dir_ / "pack").string(), DataSplit::Val, opt);
  ASSERT_EQ(pack->size(), images->size());
  EXPECT_EQ(pack->size(), 4);
  for (int64_t i = 0; i < pack->size(); ++i) {
    EXPECT_EQ(static_cast<const PackDataset&>(*pack).sample(i).path,
              static_cast<const ImageDataset&>(*images).path(i).string());
  }
  EXPECT_EQ(open_dataset((dir_ / "pack").string(), DataSplit::Train, opt)->size(), 7);
}

TEST_F(Pack, ShardsSplitBySizeAndStaleShardsGo) {
  options_.shard_bytes = 20000;  // a few small images per shard
  const PackManifest pm = write_pack(manifest(), dir_ / "pack", options_);
  EXPECT_GE(pm.shards.size(), 4u);
  for (const PackShard& s : pm.shards) EXPECT_LE(s.bytes, std::max<int64_t>(20000, 64 + 97 * 73 * 3));
  const auto pack = open_dataset((dir_ / "pack").string(), DataSplit::Train, {});
  const auto images = open_dataset((dir_ / "data").string(), DataSplit::Train, {});
  EXPECT_EQ(load(*pack, 10, LoadMode::eval()), load(*images, 10, LoadMode::eval()));
  EXPECT_THAT(user_error_of([&] { write_pack(manifest(), dir_ / "pack", options_); }),
              HasSubstr("already holds a pack; choose another folder or pass --overwrite"));
  // Another pack into the same folder: only its own shards remain.
  options_.overwrite = true;
  options_.shard_bytes = int64_t{1} << 30;
  const PackManifest again = write_pack(manifest(), dir_ / "pack", options_);
  ASSERT_EQ(again.shards.size(), 1u);
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir_ / "pack")) {
    files += e.path().filename().string().rfind("shard-", 0) == 0;
  }
  EXPECT_EQ(files, 1u);
}

TEST_F(Pack, UnreadableImagesFailOrAreSkippedAndListed) {
  spit(dir_ / "data" / "cat" / "c2.jpg", "\xFF\xD8\xFF\xE0 not really a JPEG");
  EXPECT_THAT(user_error_of([&] { write_pack(manifest(), dir_ / "pack", options_); }),
              HasSubstr("c2.jpg: corrupt or unsupported JPEG"));
  EXPECT_FALSE(is_pack_dir(dir_ / "pack"));
  options_.on_bad_image = BadImagePolicy::Skip;
  const PackManifest pm = write_pack(manifest(), dir_ / "pack", options_);
  ASSERT_EQ(pm.skipped.size(), 1u);
  EXPECT_THAT(pm.skipped[0], HasSubstr("c2.jpg: corrupt or unsupported JPEG"));
  ASSERT_EQ(pm.samples.size(), 10u);
  EXPECT_EQ(pm.samples[2].key, 3);  // keys stay the source's manifest indices
  EXPECT_THAT(slurp(dir_ / "pack" / "pack.json"), HasSubstr("c2.jpg: corrupt or unsupported JPEG"));
}

TEST_F(Pack, DamagedPacksAreUserErrorsNamingTheFile) {
  const PackManifest pm = write_pack(manifest(), dir_ / "pack", options_);
  const auto open = [&] { return open_dataset((dir_ / "pack").string(), DataSplit::Train, {}); };
  const fs::path shard = dir_ / "pack" / pm.shards[0].file;
  const std::string bytes = slurp(shard);
  EXPECT_THAT(user_error_of([&] { open()->load(0, kSize + 1, LoadMode::eval(), nullptr); }),
              HasSubstr("--input-size 65: the pack " + (dir_ / "pack").string() + " was made for --input-size 64"));
  spit(shard, bytes.substr(0, bytes.size() - 100));
  EXPECT_THAT(user_error_of(open), HasSubstr(pm.shards[0].file + ": shard is " + std::to_string(bytes.size() - 100) +
                                             " bytes, pack.json says " + std::to_string(bytes.size())));
  fs::remove(shard);
  EXPECT_THAT(user_error_of(open), HasSubstr(pm.shards[0].file + ": shard named in"));
  spit(shard, bytes);
  nlohmann::json j = nlohmann::json::parse(slurp(dir_ / "pack" / "pack.json"));
  j["samples"][3]["label"] = 5;
  spit(dir_ / "pack" / "pack.json", j.dump());
  EXPECT_THAT(user_error_of(open), HasSubstr("pack.json: sample 3 (" + pm.samples[3].path +
                                             "): label 5 is not one of the 2 classes"));
  j["samples"][3]["label"] = 1;
  j["samples"][3]["offset"] = bytes.size();
  spit(dir_ / "pack" / "pack.json", j.dump());
  EXPECT_THAT(user_error_of(open), HasSubstr("do not lie within shard"));
  // Offsets and sizes whose sums and products would overflow (found while fuzzing pack.json).
  j["samples"][3]["offset"] = INT64_MAX - 63;
  spit(dir_ / "pack" / "pack.json", j.dump());
  EXPECT_THAT(user_error_of(open), HasSubstr("do not lie within shard"));
  j["samples"][3]["offset"] = 64;
  j["samples"][3]["width"] = int64_t{1} << 32;
  j["samples"][3]["height"] = int64_t{1} << 32;
  spit(dir_ / "pack" / "pack.json", j.dump());
  EXPECT_THAT(user_error_of(open), HasSubstr("image size 4294967296x4294967296 out of range"));
  spit(dir_ / "pack" / "pack.json", std::string("{}\0", 3) + j.dump());
  EXPECT_THAT(user_error_of(open), HasSubstr("pack.json: not valid JSON (a NUL byte)"));
  spit(dir_ / "pack" / "pack.json", "{\"format\": \"thaw-pack\", \"version\": 7}");
  EXPECT_THAT(user_error_of(open), HasSubstr("pack version 7 is newer than this thaw reads (1)"));
  spit(dir_ / "pack" / "pack.json", "{\"format\": \"thaw-pack\", \"version\": 4e43}");
  EXPECT_THAT(user_error_of(open), HasSubstr("pack.json: \"version\" is 4e+43, expected an integer in range"));
  spit(dir_ / "pack" / "pack.json", "{not json");
  EXPECT_THAT(user_error_of(open), HasSubstr("pack.json: not valid JSON"));
}

}  // namespace
}  // namespace thaw
