// The data manifest: samples.csv's lines, its hash, the counts per class, the decoded-input fallback
// and the message that names the first changed sample.
#include "engine/run/dataset_manifest.h"

#include <cstring>

#include <gtest/gtest.h>

#include "core/sha256.h"

namespace thaw {
namespace {

class TinyDataset final : public Dataset {
 public:
  TinyDataset(std::vector<int32_t> labels, bool stored) : labels_(std::move(labels)), stored_(stored) {}
  int64_t size() const override { return static_cast<int64_t>(labels_.size()); }
  int64_t num_classes() const override { return 3; }
  std::vector<std::string> class_names() const override { return {"a", "b", "c"}; }
  int32_t label(int64_t i) const override { return labels_[i]; }
  void load(int64_t i, int64_t size, LoadMode, float* chw) const override {
    for (int64_t k = 0; k < 3 * size * size; ++k) chw[k] = static_cast<float>(i) + 0.5f * static_cast<float>(k);
  }
  std::string describe() const override { return "tiny"; }
  std::string content_hash(int64_t i) const override { return stored_ ? sha256_hex(std::to_string(i)) : ""; }

 private:
  std::vector<int32_t> labels_;
  bool stored_;
};

TEST(RecordData, ManifestListsEverySampleAndHashesTheCsv) {
  const TinyDataset train({0, 2, 2}, true), val({1}, true);
  const DataManifest m = make_manifest({{"train", &train}, {"val", &val}}, 2);
  const std::string want = "split,index,label,content_sha256\n"
                           "train,0,0," + sha256_hex("0") + "\n"
                           "train,1,2," + sha256_hex("1") + "\n"
                           "train,2,2," + sha256_hex("2") + "\n"
                           "val,0,1," + sha256_hex("0") + "\n";
  EXPECT_EQ(m.csv, want);
  EXPECT_EQ(m.sha256, sha256_hex(want));
  EXPECT_EQ(m.splits["train"]["counts_per_class"], nlohmann::ordered_json({1, 0, 2}));
  EXPECT_EQ(m.splits["val"]["samples"], 1);
  EXPECT_EQ(m.splits["train"]["content_hash_of"], "stored bytes");
}

TEST(RecordData, WithoutStoredHashesTheDecodedInputIsHashed) {
  const TinyDataset d({1}, false);
  const DataManifest m = make_manifest({{"train", &d}}, 2);
  std::vector<float> x(12);
  d.load(0, 2, LoadMode::eval(), x.data());
  const std::string h = sha256_hex({reinterpret_cast<const char*>(x.data()), x.size() * 4});
  EXPECT_EQ(m.csv, "split,index,label,content_sha256\ntrain,0,1," + h + "\n");
  EXPECT_NE(m.splits["train"]["content_hash_of"].get<std::string>().find("decoded input at 2x2"), std::string::npos);
}

TEST(RecordData, FirstDifferenceNamesTheSampleAndTheField) {
  const std::string a = "split,index,label,content_sha256\ntrain,0,0,aa\ntrain,1,2,bb\nval,0,1,cc\n";
  EXPECT_EQ(first_manifest_difference(a, a), "");
  const std::string b = "split,index,label,content_sha256\ntrain,0,0,aa\ntrain,1,2,bx\nval,0,0,cc\n";
  EXPECT_EQ(first_manifest_difference(a, b),
            "train sample 1 (line 3 of samples.csv): content_sha256 recorded bb, now bx");
  const std::string c = "split,index,label,content_sha256\ntrain,0,0,aa\n";
  EXPECT_NE(first_manifest_difference(a, c).find("line 3 of samples.csv (train,1,2,bb) has no sample"),
            std::string::npos);
}

}  // namespace
}  // namespace thaw
