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
  std::string source_path(int64_t i) const override { return i < static_cast<int64_t>(paths_.size()) ? paths_[i] : ""; }
  std::vector<std::string> paths_;

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

TEST(RecordData, SourcesAreRelativeToTheDataRootAndQuotedWhereNeeded) {
  TinyDataset train({0, 1, 2, 0}, true);
  train.paths_ = {"/data/lesions/mel/a.jpg", "/data/lesions/./nev/b,2.jpg", "/elsewhere/c.jpg", ""};
  const DataManifest m = make_manifest({{"train", &train}}, 2, true, "/data/lesions");
  const std::string want = std::string(kManifestColumns) + "\n"
                           "train,0,0," + sha256_hex("0") + ",mel/a.jpg\n"
                           "train,1,1," + sha256_hex("1") + ",\"nev/b,2.jpg\"\n"
                           "train,2,2," + sha256_hex("2") + ",../../elsewhere/c.jpg\n"
                           "train,3,0," + sha256_hex("3") + ",\n";
  EXPECT_EQ(m.csv, want);
  // Without the column (records made before it): the four columns, byte for byte as they were.
  EXPECT_EQ(make_manifest({{"train", &train}}, 2).csv.substr(0, 33), "split,index,label,content_sha256\n");
}

TEST(RecordData, FirstDifferenceNamesTheFile) {
  const std::string a = std::string(kManifestColumns) + "\ntrain,0,0,aa,mel/a.jpg\ntrain,1,2,bb,\"nev/b,2.jpg\"\n";
  const std::string b = std::string(kManifestColumns) + "\ntrain,0,0,aa,mel/a.jpg\ntrain,1,2,bx,\"nev/b,2.jpg\"\n";
  EXPECT_EQ(first_manifest_difference(a, b),
            "train sample 1 (line 3 of samples.csv, \"nev/b,2.jpg\"): content_sha256 recorded bb, now bx");
  // A file removed shifts the next one into its place: both its hash and its name are said.
  const std::string c = std::string(kManifestColumns) + "\ntrain,0,0,aa,mel/a.jpg\ntrain,1,2,cc,nev/c.jpg\n";
  EXPECT_EQ(first_manifest_difference(a, c),
            "train sample 1 (line 3 of samples.csv, \"nev/b,2.jpg\"): content_sha256 recorded bb, now cc; source "
            "recorded \"nev/b,2.jpg\", now nev/c.jpg");
}

}  // namespace
}  // namespace thaw
