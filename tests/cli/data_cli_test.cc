// `thaw data check` on a generated folder and CSV (duplicates, groups across splits, a corrupt
// file, the --val-fraction split) and on the real ISIC 2017 manifest when it is present; `thaw
// predict` on JPEG/PNG files writing class probabilities as CSV; `thaw train` on an image folder.
#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "io/csv.h"
#include "tests/cli/cli_harness.h"

namespace thaw::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Two classes of four images each; b/3.png is a byte copy of a/0.png (a duplicate across classes).
constexpr const char* kFolderScript = R"PY(
import os, shutil, sys
import numpy as np
from PIL import Image
root = sys.argv[1]
rng = np.random.default_rng(2)
for c in ("a", "b"):
    os.makedirs(os.path.join(root, "data", c))
for i in range(4):
    Image.fromarray(rng.integers(0, 256, size=(30 + i, 40, 3), dtype=np.uint8)).save(os.path.join(root, "data/a/%d.png" % i))
for i in range(3):
    Image.fromarray(rng.integers(0, 256, size=(50, 20 + i, 3), dtype=np.uint8)).save(os.path.join(root, "data/b/%d.jpg" % i))
shutil.copy(os.path.join(root, "data/a/0.png"), os.path.join(root, "data/b/3.png"))
)PY";

class DataCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!thaw_binary_exists()) GTEST_SKIP() << "thaw binary not built: " << THAW_BINARY;
    const std::string script = dir_ / "make.py";
    std::ofstream(script) << kFolderScript;
    const CommandResult r = run_command(std::string(kPython) + " " + sh_quote(script) + " " + sh_quote(dir_.path()), dir_);
    if (r.exit_code != 0) GTEST_SKIP() << kPython << " with numpy and PIL is needed: " << r.err;
  }
  // Passive waiting: on a loaded machine, spinning OpenMP threads make a run many times slower.
  CommandResult thaw(const std::string& args) {
    return run_command("OMP_WAIT_POLICY=passive " + sh_quote(THAW_BINARY) + " " + args, dir_);
  }

  ScratchDir dir_;
};

TEST_F(DataCli, FolderCountsSizesDuplicatesAndSplit) {
  const CommandResult r = thaw("data check " + sh_quote(dir_ / "data") + " --val-fraction 0.5 --seed 1");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("(8 images, 2 classes; validation split 0.5 from seed 1)"));
  // Per class: round(0.5 * 4) = 2 to validation.
  EXPECT_THAT(r.out, HasSubstr("  a           2       2       0       4\n"));
  EXPECT_THAT(r.out, HasSubstr("  b           2       2       0       4\n"));
  EXPECT_THAT(r.out, HasSubstr("  total       4       4       0       8\n"));
  EXPECT_THAT(r.out, HasSubstr("formats: jpeg 3 png 5\n"));
  EXPECT_THAT(r.out, HasSubstr("image sizes: width min 20, median 40, max 40; height min 30, median 33, max 50; "
                               "7 distinct sizes (most common: 40x30 2,"));
  EXPECT_THAT(r.out, HasSubstr("duplicates: 1 set of identical files, 2 files"));
  EXPECT_THAT(r.out, HasSubstr("data/a/0.png (" ));
  EXPECT_THAT(r.out, HasSubstr("data/b/3.png ("));
  EXPECT_THAT(r.out, HasSubstr("groups: none given"));
  EXPECT_THAT(r.out, HasSubstr("all 8 images read"));
}

TEST_F(DataCli, CsvGroupsAcrossSplitsWarnAndCorruptFileExits2) {
  std::ofstream(dir_ / "m.csv") << "path,label,split,group\n"
                                   "data/a/0.png,a,train,p1\n"
                                   "data/a/1.png,a,test,p1\n"
                                   "data/b/0.jpg,b,val,p2\n"
                                   "data/b/1.jpg,b,val,p2\n";
  const CommandResult ok = thaw("data check " + sh_quote(dir_ / "m.csv"));
  ASSERT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_THAT(ok.out, HasSubstr("groups: 2 named\n"));
  EXPECT_THAT(ok.out, HasSubstr("warning: group 'p1' (2 images) is in train and test: its images leak between splits"));
  EXPECT_THAT(ok.out, Not(HasSubstr("group 'p2'")));
  EXPECT_THAT(ok.out, HasSubstr("duplicates: none"));

  std::ofstream(dir_ / "data/b/2.jpg", std::ios::trunc) << "\xFF\xD8\xFF\xE0 cut short";
  const CommandResult bad = thaw("data check " + sh_quote(dir_ / "data"));
  EXPECT_EQ(bad.exit_code, 2) << bad.out << bad.err;
  EXPECT_THAT(bad.out, HasSubstr("unreadable: " + (dir_ / "data/b/2.jpg") + ": corrupt or unsupported JPEG"));
  EXPECT_THAT(bad.err, HasSubstr("1 of 8 images cannot be read (listed on stdout)"));

  const CommandResult missing = thaw("data check " + sh_quote(dir_ / "nope.csv"));
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.err, HasSubstr("nope.csv not found"));
}

TEST_F(DataCli, PredictWritesProbabilitiesPerImage) {
  if (!python_has_torch()) GTEST_SKIP() << kPython << " cannot import torch and numpy";
  const std::string weights = dir_ / "w.safetensors";
  ASSERT_NO_FATAL_FAILURE(run_reference("make-weights --classes 3 --seed 4 --out " + sh_quote(weights), dir_));
  const std::string args = "predict --weights " + sh_quote(weights) + " --classes 3 --input-size 75 --input " +
                           sh_quote(dir_ / "data") + " --class-names mel,nev,sk --batch-size 3";
  const CommandResult r = thaw(args + " --output " + sh_quote(dir_ / "p.csv") + " --threads 1");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const CsvTable t = read_csv(dir_ / "p.csv");
  EXPECT_THAT(t.header, ::testing::ElementsAre("path", "predicted", "mel", "nev", "sk"));
  ASSERT_EQ(t.rows.size(), 8u);
  EXPECT_EQ(t.rows[0][0], dir_ / "data/a/0.png");
  const std::vector<std::string> names = {"mel", "nev", "sk"};
  for (const auto& row : t.rows) {
    const double p[3] = {std::stod(row[2]), std::stod(row[3]), std::stod(row[4])};
    EXPECT_NEAR(p[0] + p[1] + p[2], 1.0, 1e-5);
    EXPECT_EQ(row[1], names[std::max_element(p, p + 3) - p]);
  }
  // Byte copies get the same probabilities; the thread count changes nothing.
  EXPECT_EQ(std::vector<std::string>(t.rows[0].begin() + 1, t.rows[0].end()),
            std::vector<std::string>(t.rows[7].begin() + 1, t.rows[7].end()));
  const CommandResult r2 = thaw(args + " --output " + sh_quote(dir_ / "p2.csv") + " --threads 2");
  ASSERT_EQ(r2.exit_code, 0) << r2.err;
  EXPECT_EQ(read_text(dir_ / "p.csv"), read_text(dir_ / "p2.csv"));

  const CommandResult one = thaw("predict --weights " + sh_quote(weights) + " --classes 3 --input-size 75 --input " +
                                 sh_quote(dir_ / "data/b/1.jpg") + " --output " + sh_quote(dir_ / "one.csv"));
  ASSERT_EQ(one.exit_code, 0) << one.err;
  const CsvTable t1 = read_csv(dir_ / "one.csv");
  EXPECT_THAT(t1.header, ::testing::ElementsAre("path", "predicted", "0", "1", "2"));  // no names: indices
  ASSERT_EQ(t1.rows.size(), 1u);
  EXPECT_EQ(std::vector<std::string>(t1.rows[0].begin() + 2, t1.rows[0].end()),
            std::vector<std::string>(t.rows[5].begin() + 2, t.rows[5].end()));

  const CommandResult wrong = thaw("predict --weights " + sh_quote(weights) + " --classes 3 --input " +
                                   sh_quote(dir_ / "data") + " --class-names a,b --output " + sh_quote(dir_ / "x.csv"));
  EXPECT_EQ(wrong.exit_code, 2);
  EXPECT_THAT(wrong.err, HasSubstr("--class-names: 2 class names for a model with 3 classes"));
}

TEST_F(DataCli, TrainOnAnImageFolderThenPredictWithItsClassNames) {
  const std::string run = dir_ / "run";
  const std::string train = "train --data " + sh_quote(dir_ / "data") +
                            " --input-size 75 --batch-size 2 --epochs 1 --freeze-through mixed_7d --seed 3 --out " +
                            sh_quote(run);
  const CommandResult no_val = thaw(train);
  EXPECT_EQ(no_val.exit_code, 2);
  EXPECT_THAT(no_val.err, HasSubstr("no validation images to evaluate on; give --val-fraction"));
  const CommandResult r = thaw(train + " --val-fraction 0.25 --rrc-scale 0.3,1 --brightness 0.1");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("held-out accuracy"));
  EXPECT_THAT(r.out, HasSubstr("(2 samples, chance 50%)"));  // round(0.25 * 4) = 1 image per class
  const std::string record = read_text(run + "/record.json");
  EXPECT_THAT(record, HasSubstr("\"val_fraction\": 0.25"));
  EXPECT_THAT(record, HasSubstr("\"brightness\": 0.1"));
  const CommandResult p = thaw("predict --weights " + sh_quote(run + "/weights.safetensors") +
                               " --classes 2 --input-size 75 --input " + sh_quote(dir_ / "data/b") + " --output " +
                               sh_quote(dir_ / "p.csv"));
  ASSERT_EQ(p.exit_code, 0) << p.err;
  const CsvTable t = read_csv(dir_ / "p.csv");
  EXPECT_THAT(t.header, ::testing::ElementsAre("path", "predicted", "a", "b"));  // from the weights' metadata
  EXPECT_EQ(t.rows.size(), 4u);
  const CommandResult bad = thaw(train + " --val-fraction 0.25 --rrc-scale 0.9,0.5 --overwrite");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("--rrc-scale: expected 0 < min <= max <= 1, got 0.9,0.5"));
  const CommandResult zero = thaw(train + " --val-fraction 0.25 --rrc-scale 0,1 --overwrite");
  EXPECT_EQ(zero.exit_code, 2);
  EXPECT_THAT(zero.err, HasSubstr("--rrc-scale: expected a number in (0, 1], got 0"));
}

TEST(DataCliDermoscopy, Isic2017ManifestChecksClean) {
  const std::string labels = "/work/shared/data/dermoscopy/isic2017_256px/labels.csv";
  if (!std::filesystem::exists(labels)) GTEST_SKIP() << labels << " is absent";
  if (!thaw_binary_exists()) GTEST_SKIP() << "thaw binary not built: " << THAW_BINARY;
  ScratchDir dir;
  const CommandResult r = run_command(sh_quote(THAW_BINARY) + " data check " + sh_quote(labels), dir);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("(2750 images, 3 classes)"));
  EXPECT_THAT(r.out, HasSubstr("  melanoma                 374      30     117     521\n"));
  EXPECT_THAT(r.out, HasSubstr("  nevus                   1372      78     393    1843\n"));
  EXPECT_THAT(r.out, HasSubstr("  seborrheic_keratosis     254      42      90     386\n"));
  EXPECT_THAT(r.out, HasSubstr("formats: jpeg 2750\n"));
  EXPECT_THAT(r.out, HasSubstr("1 distinct size (most common: 256x256 2750)"));
  // Six pairs of byte-identical files (e.g. ISIC_0012175 in train and ISIC_0015982 in test; the five
  // test images missing from ISIC 2019 are all such copies), four of them across splits.
  EXPECT_THAT(r.out, HasSubstr("duplicates: 6 sets of identical files, 12 files"));
  EXPECT_THAT(r.out, HasSubstr("ISIC_0012175.jpg (train, nevus), "));
  EXPECT_THAT(r.out, HasSubstr("ISIC_0015982.jpg (test, nevus)"));
  EXPECT_THAT(r.out, HasSubstr("warning: 4 sets of identical files lie in more than one split"));
  EXPECT_THAT(r.out, HasSubstr("all 2750 images read"));
}

}  // namespace
}  // namespace thaw::testing
