// A folder laid out as train/<class>, val/<class> (and test/<class>) is read as those splits, not as
// classes named train and val; classes come from train; a class only val or test has, or two folders
// for one split, is one error naming the folder. Scanning reads names only, so the files need not
// decode.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "io/datasets.h"
#include "io/image_manifest.h"
#include "tests/io/io_test_support.h"

namespace thaw {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::ScratchDir;
using testing::spit;
using testing::user_error_of;

void images(const fs::path& dir, int n) {
  fs::create_directories(dir);
  for (int i = 0; i < n; ++i) spit(dir / (std::to_string(i) + ".jpg"), "\xFF\xD8\xFF");
}

TEST(SplitFolders, TrainValTestFoldersAreSplits) {
  ScratchDir dir;
  images(dir / "d/train/nevus", 4);
  images(dir / "d/train/melanoma", 3);
  images(dir / "d/Validation/nevus", 2);
  images(dir / "d/test/melanoma", 1);
  const ImageManifest m = scan_image_folder(dir / "d");
  EXPECT_THAT(m.class_names, ElementsAre("melanoma", "nevus"));
  EXPECT_TRUE(m.has_split_column);
  std::map<std::pair<DataSplit, int32_t>, int> count;
  for (const ImageRecord& r : m.records) ++count[{r.split, r.label}];
  EXPECT_EQ((count[{DataSplit::Train, 0}]), 3);
  EXPECT_EQ((count[{DataSplit::Train, 1}]), 4);
  EXPECT_EQ((count[{DataSplit::Val, 1}]), 2);
  EXPECT_EQ((count[{DataSplit::Test, 0}]), 1);
  EXPECT_EQ(m.records.size(), 10u);
  // The splits are the user's: carving another validation split out of train is refused.
  DataOptions o;
  o.val_fraction = 0.2;
  EXPECT_THAT(user_error_of([&] { open_image_manifest((dir / "d").string(), o); }),
              HasSubstr("already names a validation split"));
  EXPECT_EQ(open_dataset((dir / "d").string(), DataSplit::Val)->size(), 2);
}

TEST(SplitFolders, ClassesNamedLikeSplitsWithImagesInsideStayClasses) {
  ScratchDir dir;
  images(dir / "d/train", 2);
  images(dir / "d/test", 3);
  const ImageManifest m = scan_image_folder(dir / "d");
  EXPECT_THAT(m.class_names, ElementsAre("test", "train"));
  EXPECT_FALSE(m.has_split_column);
  for (const ImageRecord& r : m.records) EXPECT_EQ(r.split, DataSplit::Train);
}

TEST(SplitFolders, AClassWithoutTrainingImagesOrTwoFoldersForASplitAreRefused) {
  ScratchDir dir;
  images(dir / "d/train/nevus", 2);
  images(dir / "d/val/melanoma", 2);
  EXPECT_THAT(user_error_of([&] { scan_image_folder(dir / "d"); }),
              HasSubstr("val/melanoma: class 'melanoma' has no folder in " + (dir / "d/train").string()));
  images(dir / "e/train/nevus", 2);
  images(dir / "e/val/nevus", 1);
  images(dir / "e/validation/nevus", 1);
  EXPECT_THAT(user_error_of([&] { scan_image_folder(dir / "e"); }), HasSubstr("both name the val split; keep one"));
}

}  // namespace
}  // namespace thaw
