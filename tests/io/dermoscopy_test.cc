// The real dermoscopy JPEGs under /work/shared/data/dermoscopy (read in place, never copied; the
// tests skip when the folder is absent): the ISIC 2017 manifest with its official splits, header
// sizes against the UDA-1 metadata, decoding, DCT scaling on real photographs, evaluation inputs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "io/augment.h"
#include "io/csv.h"
#include "io/datasets.h"
#include "io/file_bytes.h"
#include "io/image_decode.h"
#include "io/image_manifest.h"
#include "io/resample.h"

namespace thaw {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;

const fs::path kRoot = "/work/shared/data/dermoscopy";
const fs::path kIsic2017 = kRoot / "isic2017_256px" / "labels.csv";
const fs::path kUda1 = kRoot / "isic_uda1_fullres" / "metadata.csv";

#define REQUIRE_FILE(p) \
  if (!fs::exists(p)) GTEST_SKIP() << (p).string() << " is absent"

TEST(Dermoscopy, Isic2017OfficialSplitsAndCounts) {
  REQUIRE_FILE(kIsic2017);
  const ImageManifest m = read_csv_manifest(kIsic2017);
  ASSERT_THAT(m.class_names, ElementsAre("melanoma", "nevus", "seborrheic_keratosis"));
  ASSERT_EQ(m.records.size(), 2750u);
  // counts[split][class], official ISIC 2017 Part 3 figures.
  int64_t counts[3][3] = {};
  for (const ImageRecord& r : m.records) ++counts[static_cast<int>(r.split)][r.label];
  const int64_t want[3][3] = {{374, 1372, 254}, {30, 78, 42}, {117, 393, 90}};
  for (int s = 0; s < 3; ++s) {
    for (int c = 0; c < 3; ++c) EXPECT_EQ(counts[s][c], want[s][c]) << split_name(DataSplit(s)) << " " << c;
  }
  EXPECT_EQ(held_out_split(kIsic2017.string()), DataSplit::Val);
  const auto val = open_dataset(kIsic2017.string(), DataSplit::Val, {});
  EXPECT_EQ(val->size(), 150);
}

TEST(Dermoscopy, Isic2017ImagesDecodeAt256AndGiveEvalInputs) {
  REQUIRE_FILE(kIsic2017);
  const auto test = open_dataset(kIsic2017.string(), DataSplit::Test, {});
  std::vector<float> x(3 * 299 * 299);
  const ImageManifest m = read_csv_manifest(kIsic2017);
  int64_t checked = 0;
  for (size_t i = 0; i < m.records.size(); i += 97) {
    const Image img = read_image(m.records[i].path);
    EXPECT_EQ(img.width, 256);
    EXPECT_EQ(img.height, 256);
    // Dermoscopy is not grey: channels differ.
    int64_t colourful = 0;
    for (size_t p = 0; p < img.rgb.size(); p += 3) colourful += img.rgb[p] != img.rgb[p + 2];
    EXPECT_GT(colourful, 256 * 256 / 2);
    ++checked;
  }
  EXPECT_EQ(checked, 29);
  test->load(0, 299, LoadMode::eval(), x.data());
  float lo = 1, hi = -1;
  for (float v : x) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  EXPECT_GE(lo, -1.0f);
  EXPECT_LE(hi, 1.0f);
  EXPECT_GT(hi - lo, 0.5f);
}

TEST(Dermoscopy, Uda1HeadersMatchTheMetadata) {
  REQUIRE_FILE(kUda1);
  const CsvTable t = read_csv(kUda1);
  const int file = t.column("file"), w = t.column("width"), h = t.column("height");
  ASSERT_GE(file, 0);
  ASSERT_EQ(t.rows.size(), 89u);
  for (const auto& row : t.rows) {
    const fs::path p = kUda1.parent_path() / row[file];
    const ImageHeader hd = read_image_header(read_file_bytes(p), p.string());
    EXPECT_EQ(hd.format, "jpeg");
    EXPECT_EQ(hd.width, std::stoll(row[w])) << p;
    EXPECT_EQ(hd.height, std::stoll(row[h])) << p;
  }
}

TEST(Dermoscopy, DctScalingOnRealPhotographs) {
  REQUIRE_FILE(kUda1);
  // Three of the larger originals: decode at the evaluation target for 299 (shorter side >= 341)
  // through DCT scaling, and compare with a full decode resampled to the same size. Measured: mean
  // |diff| 0.76-0.87 grey levels (all three at 1/4).
  const CsvTable t = read_csv(kUda1);
  const int file = t.column("file"), w = t.column("width");
  int tried = 0;
  for (const auto& row : t.rows) {
    if (std::stoll(row[w]) < 2000 || tried == 3) continue;
    ++tried;
    const fs::path p = kUda1.parent_path() / row[file];
    const std::string bytes = read_file_bytes(p);
    const Image full = decode_image(bytes, p.string());
    const Image small = decode_image(bytes, p.string(), 341);
    const int denom = jpeg_scale_denom(full.width, full.height, 341);
    EXPECT_GE(denom, 2) << p;
    EXPECT_GE(std::min(small.width, small.height), 341) << p;
    EXPECT_EQ(small.width, (full.width + denom - 1) / denom) << p;
    std::vector<float> ref(static_cast<size_t>(3 * small.width * small.height));
    resample_rgb(full, {0, 0, double(full.width), double(full.height)}, small.width, small.height, ref.data());
    const int64_t plane = small.width * small.height;
    double sum = 0;
    for (int64_t c = 0; c < 3; ++c) {
      for (int64_t i = 0; i < plane; ++i) sum += std::abs(double(small.rgb[3 * i + c]) - ref[c * plane + i]);
    }
    std::printf("%s: %lldx%lld at 1/%d: mean |diff| %.3f\n", p.filename().c_str(), (long long)full.width,
                (long long)full.height, denom, sum / (3 * plane));
    EXPECT_LT(sum / (3 * plane), 1.5) << p;
  }
  EXPECT_EQ(tried, 3);
}

}  // namespace
}  // namespace thaw
