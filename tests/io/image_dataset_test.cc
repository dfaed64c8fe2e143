// Image datasets: a folder of class folders and a CSV manifest (classes in a stable order, paths,
// splits, groups, the errors), and loading: evaluation inputs, and training inputs that depend on
// (seed, epoch, sample) only, whatever the thread that loads them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "core/sha256.h"
#include "io/datasets.h"
#include "io/image_dataset.h"
#include "io/image_manifest.h"
#include "tests/io/io_test_support.h"

namespace thaw {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::run_python;
using testing::ScratchDir;
using testing::spit;
using testing::user_error_of;

// Classes "zebra" (3 JPEGs of mixed sizes, one in a sub-folder), "ant" (2 PNGs), a hidden folder and
// a stray text file that must be ignored.
constexpr const char* kFolderScript = R"PY(
import os
import numpy as np
from PIL import Image
rng = np.random.default_rng(11)
def save(path, w, h):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)).save(path)
save("data/zebra/z1.jpg", 120, 90)
save("data/zebra/z2.JPEG", 64, 200)
save("data/zebra/more/z3.jpg", 300, 300)
save("data/ant/a1.png", 50, 40)
save("data/ant/a2.png", 33, 77)
save("data/.cache/x.png", 10, 10)
open("data/zebra/notes.txt", "w").write("not an image")
)PY";

class ImageFolder : public ::testing::Test {
 protected:
  void SetUp() override {
    THAW_REQUIRE_PYTHON("numpy, PIL");
    ASSERT_EQ(run_python(dir_, kFolderScript), 0);
  }
  ScratchDir dir_;
};

TEST_F(ImageFolder, ClassesSortedFilesSortedHiddenIgnored) {
  const ImageManifest m = scan_image_folder(dir_ / "data");
  EXPECT_THAT(m.class_names, ElementsAre("ant", "zebra"));
  ASSERT_EQ(m.records.size(), 5u);
  std::vector<std::string> names;
  std::vector<int32_t> labels;
  for (const ImageRecord& r : m.records) {
    names.push_back(r.path.filename().string());
    labels.push_back(r.label);
    EXPECT_EQ(r.split, DataSplit::Train);
  }
  EXPECT_THAT(names, ElementsAre("a1.png", "a2.png", "z3.jpg", "z1.jpg", "z2.JPEG"));  // "more/z3" < "z1"
  EXPECT_THAT(labels, ElementsAre(0, 0, 1, 1, 1));
  // Run records identify samples by the SHA-256 of their file's bytes.
  const auto data = open_dataset((dir_ / "data").string(), DataSplit::Train, {});
  EXPECT_EQ(data->content_hash(2), sha256_hex(testing::slurp(m.records[2].path)));
  EXPECT_NE(data->content_hash(2), data->content_hash(3));
}

TEST_F(ImageFolder, OpensAsDatasetWithValidationSplitAndLoadsEvalInputs) {
  DataOptions opt;
  opt.val_fraction = 0.4;
  opt.seed = 3;
  const auto train = open_dataset((dir_ / "data").string(), DataSplit::Train, opt);
  const auto val = open_dataset((dir_ / "data").string(), DataSplit::Val, opt);
  EXPECT_EQ(held_out_split((dir_ / "data").string()), DataSplit::Val);
  // round(0.4 * 2) = 1 ant and round(0.4 * 3) = 1 zebra go to validation.
  EXPECT_EQ(train->size(), 3);
  EXPECT_EQ(val->size(), 2);
  EXPECT_THAT(val->class_names(), ElementsAre("ant", "zebra"));
  EXPECT_EQ(val->label(0) + val->label(1), 1);
  EXPECT_EQ(open_dataset((dir_ / "data").string(), DataSplit::Test, opt)->size(), 0);
  std::vector<float> x(3 * 40 * 40);
  for (int64_t i = 0; i < train->size(); ++i) {
    train->load(i, 40, LoadMode::eval(), x.data());
    for (float v : x) ASSERT_TRUE(v >= -1.0f && v <= 1.0f);
  }
}

TEST_F(ImageFolder, TrainingPixelsDependOnSeedEpochAndSampleOnly) {
  const auto data = open_dataset((dir_ / "data").string(), DataSplit::Train, {});
  const int64_t n = data->size(), per = 3 * 32 * 32;
  auto load_all = [&](int threads, int64_t epoch) {
    std::vector<float> out(static_cast<size_t>(n * per));
    std::vector<std::thread> pool;
    // Thread t loads samples t, t + threads, ... in reverse: another order and another thread per sample.
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        for (int64_t i = n - 1 - t; i >= 0; i -= threads) data->load(i, 32, LoadMode::training(epoch), &out[i * per]);
      });
    }
    for (auto& th : pool) th.join();
    return out;
  };
  const std::vector<float> one = load_all(1, 4);
  EXPECT_EQ(one, load_all(2, 4));
  EXPECT_EQ(one, load_all(3, 4));
  const std::vector<float> other_epoch = load_all(1, 5);
  for (int64_t i = 0; i < n; ++i) {
    EXPECT_FALSE(std::equal(&one[i * per], &one[(i + 1) * per], &other_epoch[i * per])) << "sample " << i;
  }
  // A sample's key is its index in the manifest: the same image seen through a split keeps its pixels.
  DataOptions opt;
  opt.val_fraction = 0.4;
  opt.seed = 0;
  const auto train = open_dataset((dir_ / "data").string(), DataSplit::Train, opt);
  std::vector<float> x(static_cast<size_t>(per));
  const auto* images = dynamic_cast<const ImageDataset*>(train.get());
  ASSERT_NE(images, nullptr);
  for (int64_t j = 0; j < train->size(); ++j) {
    int64_t i = 0;
    const auto* all = dynamic_cast<const ImageDataset*>(data.get());
    while (all->path(i) != images->path(j)) ++i;
    train->load(j, 32, LoadMode::training(4), x.data());
    EXPECT_TRUE(std::equal(x.begin(), x.end(), &one[i * per])) << images->path(j);
  }
}

TEST_F(ImageFolder, EmptyClassFolderAndNoClassesAreUserErrors) {
  fs::create_directories(dir_ / "data" / "empty_class");
  EXPECT_THAT(user_error_of([&] { scan_image_folder(dir_ / "data"); }),
              HasSubstr("empty_class: class folder holds no .jpg, .jpeg, .png, .tif, .tiff, .dcm or .dicom images"));
  fs::create_directories(dir_ / "flat");
  spit(dir_ / "flat" / "a.jpg", "x");
  EXPECT_THAT(user_error_of([&] { scan_image_folder(dir_ / "flat"); }), HasSubstr("expected one sub-folder"));
}

TEST_F(ImageFolder, CorruptImageFailsTheLoadNamingTheFile) {
  spit(dir_ / "data" / "ant" / "a0.png", "\x89PNG\r\n\x1a\n truncated");
  const auto data = open_dataset((dir_ / "data").string(), DataSplit::Train, {});
  std::vector<float> x(3 * 32 * 32);
  EXPECT_THAT(user_error_of([&] { data->load(0, 32, LoadMode::eval(), x.data()); }),
              HasSubstr("a0.png: corrupt or unsupported PNG"));
}

TEST_F(ImageFolder, CsvManifestPathsSplitsGroupsAndClassOrder) {
  spit(dir_ / "m.csv",
       "group,file,label,split,extra\n"
       "p1,data/ant/a1.png,10,train,x\n"
       "p1,data/ant/a2.png,9,Validation,\"quoted, with comma\"\n"
       ",\"data/zebra/z1.jpg\",10,TEST,\n"
       "p2," + (dir_ / "data/zebra/z2.JPEG").string() + ",9,train,\n");
  const ImageManifest m = read_csv_manifest(dir_ / "m.csv");
  EXPECT_THAT(m.class_names, ElementsAre("9", "10"));  // numeric order, not "10" < "9"
  ASSERT_EQ(m.records.size(), 4u);
  EXPECT_EQ(m.records[0].path, dir_ / "data/ant/a1.png");
  EXPECT_EQ(m.records[0].label, 1);
  EXPECT_EQ(m.records[1].split, DataSplit::Val);
  EXPECT_EQ(m.records[2].split, DataSplit::Test);
  EXPECT_EQ(m.records[2].group, "");
  EXPECT_EQ(m.records[3].path, dir_ / "data/zebra/z2.JPEG");
  EXPECT_EQ(m.records[3].line, 5);
  EXPECT_TRUE(m.has_split_column);
  EXPECT_TRUE(m.has_group_column);
  EXPECT_EQ(open_dataset((dir_ / "m.csv").string(), DataSplit::Train, {})->size(), 2);
  EXPECT_EQ(open_dataset((dir_ / "m.csv").string(), DataSplit::Val, {})->size(), 1);
  DataOptions opt;
  opt.val_fraction = 0.5;
  EXPECT_THAT(user_error_of([&] { open_dataset((dir_ / "m.csv").string(), DataSplit::Train, opt); }),
              HasSubstr("--val-fraction: " + (dir_ / "m.csv").string() + " already names a validation split (line 3)"));
}

TEST_F(ImageFolder, CsvManifestErrorsNameFileAndLine) {
  auto error_for = [&](const std::string& text) {
    spit(dir_ / "bad.csv", text);
    return user_error_of([&] { read_csv_manifest(dir_ / "bad.csv"); });
  };
  EXPECT_THAT(error_for("image,class\na.png,x\n"),
              HasSubstr("bad.csv: expected a header with columns path (or file) and label, optionally split and group; "
                        "found: image,class"));
  EXPECT_THAT(error_for("path,label\ndata/ant/a1.png,x\ndata/ant/nope.png,y\n"),
              HasSubstr("bad.csv: line 3: image " + (dir_ / "data/ant/nope.png").string() + " not found"));
  EXPECT_THAT(error_for("path,label,split\ndata/ant/a1.png,x,holdout\n"),
              HasSubstr("bad.csv: line 2: split 'holdout' is not one of train, val (or validation), test"));
  EXPECT_THAT(error_for("path,label\ndata/ant/a1.png,x\ndata/ant/a2.png\n"),
              HasSubstr("bad.csv: line 3: expected 2 fields as in the header, got 1"));
  EXPECT_THAT(error_for("path,label\ndata/ant/a1.png,\n"), HasSubstr("bad.csv: line 2: empty label"));
  EXPECT_THAT(error_for("path,label\n"), HasSubstr("bad.csv: no rows after the header"));
  EXPECT_THAT(user_error_of([&] { open_dataset((dir_ / "none.csv").string(), DataSplit::Train, {}); }),
              HasSubstr("none.csv not found"));
  EXPECT_THAT(user_error_of([&] { open_dataset((dir_ / "x.txt").string(), DataSplit::Train, {}); }),
              HasSubstr("--data: expected 'fashion-mnist', a folder"));
}

}  // namespace
}  // namespace thaw
