// The data path of the command line: `thaw pack` then `thaw train --data PACK`; unreadable images
// under --on-bad-image fail (exit 2, one line naming the file) and skip (the run finishes, the log
// and the run folder's skipped.txt name each skipped file, a CSV row with a missing image included).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "tests/cli/cli_harness.h"
#include "tests/cli/idx_fixture.h"
#include "core/sha256.h"

namespace thaw::testing {
namespace {

using ::testing::HasSubstr;

// 2 classes x 5 small JPEGs and PNGs.
constexpr const char* kImages = R"PY(
import os, sys
import numpy as np
from PIL import Image
rng = np.random.default_rng(2)
root = sys.argv[1]
for c in ("a", "b"):
    os.makedirs(os.path.join(root, "data", c))
    for i in range(5):
        px = rng.integers(0, 256, size=(60 + 3 * i, 80 - 2 * i, 3), dtype=np.uint8)
        Image.fromarray(px).save(os.path.join(root, "data", c, "%d.%s" % (i, "png" if i % 2 else "jpg")))
)PY";


// A small run that loads every one of the 10 samples, whichever the split picks (it is keyed by the
// paths, which change with the scratch folder): 2 per class in validation, 3 steps of 2 over the 6
// left, then the evaluation; at 75 px, head only, 2 loader workers.
std::string train_args(const std::string& data, const std::string& out) {
  return kPassive + std::string(THAW_BINARY) + " train --data " + sh_quote(data) + " --out " + sh_quote(out) +
         " --input-size 75 --batch-size 2 --max-steps 3 --freeze-through mixed_7d --val-fraction 0.3 --workers 2";
}

class DataCommands : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!thaw_binary_exists()) GTEST_SKIP() << "thaw binary not built: " << THAW_BINARY;
    std::ofstream(dir_ / "make.py") << kImages;
    const std::string cmd =
        std::string(kPython) + " " + sh_quote(dir_ / "make.py") + " " + sh_quote(dir_.path().string());
    const CommandResult r = run_command(cmd, dir_);
    if (r.exit_code != 0) GTEST_SKIP() << "Debian's python3 with numpy and PIL is needed: " << r.err;
  }
  std::string pack_command() const {
    return std::string(THAW_BINARY) + " pack " + sh_quote(dir_ / "data") + " --input-size 75 --out " +
           sh_quote(dir_ / "pack");
  }
  ScratchDir dir_;
};

TEST_F(DataCommands, PackThenTrainFromThePack) {
  const std::string pack = pack_command();
  CommandResult r = run_command(pack, dir_);
  ASSERT_EQ(r.exit_code, 0) << describe(pack, r);
  EXPECT_THAT(r.out, HasSubstr("packed 10 images (2 classes; train 10, val 0, test 0)"));
  EXPECT_THAT(r.out, HasSubstr("shorter side at most 85 px"));
  r = run_command(pack, dir_);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("already holds a pack; choose another folder or pass --overwrite"));
  const std::string train = train_args(dir_ / "pack", dir_ / "run");
  r = run_command(train, dir_);
  ASSERT_EQ(r.exit_code, 0) << describe(train, r);
  EXPECT_THAT(r.err, HasSubstr("pack train: 6 packed images, 2 classes"));
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "run" / "skipped.txt"));
  // The record keeps the loader settings; the pack's samples are hashed by their stored pixels.
  EXPECT_THAT(read_text(dir_.path() / "run" / "record.json"), HasSubstr("\"workers\": 2"));
}

// `thaw data check PACK` rehashes every stored sample: a flipped byte in a shard is named.
TEST_F(DataCommands, DataCheckOfAPackFindsACorruptSample) {
  const std::string pack = pack_command();
  CommandResult r = run_command(pack, dir_);
  ASSERT_EQ(r.exit_code, 0) << describe(pack, r);
  const std::string check = kPassive + std::string(THAW_BINARY) + " data check " + sh_quote(dir_ / "pack") +
                            " --val-fraction 0.4 --seed 1";
  r = run_command(check, dir_);
  ASSERT_EQ(r.exit_code, 0) << describe(check, r);
  EXPECT_THAT(r.out, HasSubstr("(a pack of 10 images, 2 classes, made from "));
  EXPECT_THAT(r.out, HasSubstr("; validation split 0.4 from seed 1)"));
  // Per class: round(0.4 * 5) = 2 to validation.
  EXPECT_THAT(r.out, HasSubstr("  a           3       2       0       5\n"));
  EXPECT_THAT(r.out, HasSubstr("  total       6       4       0      10\n"));
  EXPECT_THAT(r.out, HasSubstr("duplicates: none"));
  EXPECT_THAT(r.out, HasSubstr("all 10 packed images match their SHA-256"));

  std::filesystem::path shard;
  for (const auto& e : std::filesystem::directory_iterator(dir_.path() / "pack")) {
    if (e.path().extension() == ".bin") shard = e.path();
  }
  ASSERT_FALSE(shard.empty());
  {
    std::fstream f(shard, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(64 + 5);  // the first sample's pixels start after the 64-byte header
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x5a);
    f.seekp(64 + 5);
    f.write(&c, 1);
  }
  r = run_command(check, dir_);
  EXPECT_EQ(r.exit_code, 2) << describe(check, r);
  EXPECT_THAT(r.out, HasSubstr("corrupt: "));
  EXPECT_THAT(r.out, HasSubstr("no longer match the SHA-256 in pack.json"));
  EXPECT_THAT(r.err, HasSubstr("1 of 10 packed images are corrupt; pack the data again with thaw pack"));
}

TEST_F(DataCommands, UnreadableImagesFailOrAreSkippedAndListed) {
  std::ofstream(dir_.path() / "data" / "a" / "3.png", std::ios::binary) << "\x89PNG\r\n\x1a\n not really";
  const std::string fail = train_args(dir_ / "data", dir_ / "run_fail");
  CommandResult r = run_command(fail, dir_);
  EXPECT_EQ(r.exit_code, 2) << describe(fail, r);
  EXPECT_THAT(r.err, HasSubstr("3.png: corrupt or unsupported PNG"));
  EXPECT_THAT(r.err, HasSubstr("(--on-bad-image skip leaves unreadable images out)"));

  // A manifest with the corrupt file and a missing one, every row in train, all read in 5 steps.
  std::ofstream csv(dir_ / "m.csv");
  csv << "path,label,split\n";
  for (const char* c : {"a", "b"}) {
    for (int i = 0; i < 5; ++i) csv << "data/" << c << "/" << i << (i % 2 ? ".png" : ".jpg") << "," << c << ",train\n";
  }
  csv << "data/b/gone.jpg,b,val\ndata/a/0.jpg,a,val\ndata/b/0.jpg,b,val\n";
  csv.close();
  const std::string skip = kPassive + std::string(THAW_BINARY) + " train --data " + sh_quote(dir_ / "m.csv") +
                           " --out " + sh_quote(dir_ / "run_skip") +
                           " --input-size 75 --batch-size 2 --max-steps 5 --freeze-through mixed_7d --workers 2"
                           " --on-bad-image skip";
  r = run_command(skip, dir_);
  ASSERT_EQ(r.exit_code, 0) << describe(skip, r);
  EXPECT_THAT(r.err, HasSubstr("thaw: skipped train sample 3: "));
  EXPECT_THAT(r.err, HasSubstr("3.png: corrupt or unsupported PNG"));
  EXPECT_THAT(r.err, HasSubstr("thaw: skipped val sample 0: cannot read "));
  const std::string listed = read_text(dir_.path() / "run_skip" / "skipped.txt");
  EXPECT_THAT(listed, HasSubstr("train sample 3: "));
  EXPECT_THAT(listed, HasSubstr("val sample 0: cannot read "));
  EXPECT_THAT(listed, HasSubstr("gone.jpg"));
  EXPECT_EQ(std::count(listed.begin(), listed.end(), '\n'), 2);  // each file once, however often it was met
}

// --max-image-pixels: the images of 5016 to 5184 pixels (2, 3 and 4 of each class) are over a limit
// of 5000 and refused as unreadable, before decoding; a run records the limit it read with.
TEST_F(DataCommands, ImagesOverTheMaxImagePixelsAreRefusedByPackDataCheckAndTrain) {
  const std::string pack = pack_command() + " --max-image-pixels 5000";
  CommandResult r = run_command(pack, dir_);
  EXPECT_EQ(r.exit_code, 2) << describe(pack, r);
  EXPECT_THAT(r.err, HasSubstr("2.jpg: image of 76x66 pixels is larger than the limit of 5000 pixels (--max-image-pixels)"));
  r = run_command(pack + " --on-bad-image skip", dir_);
  ASSERT_EQ(r.exit_code, 0) << describe(pack, r);
  EXPECT_THAT(r.out, HasSubstr("packed 4 images"));
  EXPECT_THAT(r.out, HasSubstr("6 unreadable images skipped"));

  const std::string check = kPassive + std::string(THAW_BINARY) + " data check " + sh_quote(dir_ / "data") +
                            " --max-image-pixels 5000";
  r = run_command(check, dir_);
  EXPECT_EQ(r.exit_code, 2) << describe(check, r);
  EXPECT_THAT(r.out, HasSubstr("3.png: image of 74x69 pixels is larger than the limit of 5000 pixels"));

  // Training with 5150: only 4.jpg of each class (5184 pixels) is refused, so no batch of 4 can be
  // all refused, whichever split the paths put them in (every sample is loaded, train or val).
  const std::string train = kPassive + std::string(THAW_BINARY) + " train --data " + sh_quote(dir_ / "data") +
                            " --out " + sh_quote(dir_ / "run") + " --input-size 75 --batch-size 4 --max-steps 2"
                            " --epochs 2 --freeze-through mixed_7d --val-fraction 0.3 --workers 2"
                            " --max-image-pixels 5150 --on-bad-image skip";
  r = run_command(train, dir_);
  ASSERT_EQ(r.exit_code, 0) << describe(train, r);
  EXPECT_THAT(read_text(dir_.path() / "run" / "skipped.txt"), HasSubstr("4.jpg: image of 72x72 pixels is larger than the limit of 5150 pixels"));
  EXPECT_THAT(read_text(dir_.path() / "run" / "record.json"), HasSubstr("\"max_image_pixels\": 5150"));
}

// The weights carry their preprocessing: predict needs neither --classes nor --input-size.
TEST_F(DataCommands, WeightsCarryInputSizeAndPreprocessingForPredict) {
  const std::string train = train_args(dir_ / "data", dir_ / "run");
  CommandResult r = run_command(train, dir_);
  ASSERT_EQ(r.exit_code, 0) << describe(train, r);
  const std::string weights = (dir_.path() / "run" / "weights.safetensors").string();
  const std::string text = read_text(weights);
  EXPECT_THAT(text, HasSubstr("\"thaw_input_size\":\"75\""));
  EXPECT_THAT(text, HasSubstr("thaw_preprocess"));
  const std::string predict = std::string(THAW_BINARY) + " predict --weights " + sh_quote(weights) + " --input " +
                              sh_quote(dir_ / "data") + " --output " + sh_quote(dir_ / "p.csv");
  r = run_command(predict, dir_);
  ASSERT_EQ(r.exit_code, 0) << describe(predict, r);
  EXPECT_THAT(r.err, HasSubstr("input size 75 from " + weights + " (metadata thaw_input_size)"));
  EXPECT_EQ(read_text(dir_.path() / "p.csv").substr(0, read_text(dir_.path() / "p.csv").find('\n')), "path,predicted,a,b");
}

// A .nii and a .heic in the class folders: train, data check and pack each name them in one warning.
TEST_F(DataCommands, FilesLeftOutByTheirNamesAreNamedByEveryCommand) {
  std::ofstream(dir_.path() / "data" / "a" / "scan.nii") << "n+1";
  std::ofstream(dir_.path() / "data" / "b" / "slide.heic") << "ftyp";
  const std::string warning = "thaw: warning: 2 files in the class folders of " + (dir_.path() / "data").string() +
                              " are not .jpg, .jpeg, .png, .tif, .tiff, .dcm or .dicom and left out: " +
                              (dir_.path() / "data" / "a" / "scan.nii").string() + ", " +
                              (dir_.path() / "data" / "b" / "slide.heic").string() + "\n";
  const std::string train = train_args(dir_ / "data", dir_ / "run");
  CommandResult r = run_command(train, dir_);
  ASSERT_EQ(r.exit_code, 0) << describe(train, r);
  EXPECT_THAT(r.err, HasSubstr(warning));
  const std::string check = std::string(THAW_BINARY) + " data check " + sh_quote(dir_ / "data");
  r = run_command(check, dir_);
  EXPECT_EQ(r.exit_code, 0) << describe(check, r);
  EXPECT_THAT(r.out, HasSubstr(warning));
  r = run_command(pack_command(), dir_);
  ASSERT_EQ(r.exit_code, 0) << describe(pack_command(), r);
  EXPECT_THAT(r.err, HasSubstr(warning));
}

// samples.csv names each sample's file relative to the data folder, the same from the folder and
// from its pack; replay names the file whose bytes changed; and a record made before the column
// (four columns, no data.samples_columns) still replays.
std::set<std::string> sources(const std::string& csv) {
  std::set<std::string> out;
  std::istringstream in(csv);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "split,index,label,content_sha256,source");
  while (std::getline(in, line)) out.insert(line.substr(line.rfind(',') + 1));
  return out;
}

TEST_F(DataCommands, SamplesNameTheirFilesAndReplaySaysWhichChanged) {
  const std::string train = train_args(dir_ / "data", dir_ / "run");
  CommandResult r = run_command(train, dir_);
  ASSERT_EQ(r.exit_code, 0) << describe(train, r);
  const std::string csv = read_text(dir_.path() / "run" / "samples.csv");
  const std::set<std::string> named = sources(csv);
  ASSERT_EQ(named.size(), 10u) << csv;
  EXPECT_TRUE(named.count("a/0.jpg")) << csv;
  EXPECT_TRUE(named.count("b/3.png")) << csv;

  const std::string pack = pack_command();
  r = run_command(pack, dir_);
  ASSERT_EQ(r.exit_code, 0) << describe(pack, r);
  const std::string from_pack = train_args(dir_ / "pack", dir_ / "packrun");
  r = run_command(from_pack, dir_);
  ASSERT_EQ(r.exit_code, 0) << describe(from_pack, r);
  EXPECT_EQ(sources(read_text(dir_.path() / "packrun" / "samples.csv")), named);

  // The first training sample's file replaced by another image: replay names it.
  std::istringstream lines(csv);
  std::string line;
  std::getline(lines, line);
  std::getline(lines, line);
  const std::string first = line.substr(line.rfind(',') + 1);
  const std::string other = first == "a/0.jpg" ? "a/2.jpg" : "a/0.jpg";
  const std::string kept = read_text(dir_.path() / "data" / first);
  std::filesystem::copy_file(dir_.path() / "data" / other, dir_.path() / "data" / first,
                             std::filesystem::copy_options::overwrite_existing);
  const std::string replay = std::string(THAW_BINARY) + " replay " + sh_quote(dir_ / "run");
  r = run_command(replay, dir_);
  EXPECT_EQ(r.exit_code, 2) << describe(replay, r);
  EXPECT_THAT(r.err, HasSubstr("train sample 0 (line 2 of samples.csv, " + first + "): content_sha256 recorded"));
  std::ofstream(dir_.path() / "data" / first, std::ios::binary) << kept;

  // The record as thaw wrote it before the source column: four columns, their hash, no samples_columns.
  std::string old_csv;
  std::istringstream all(csv);
  while (std::getline(all, line)) old_csv += line.substr(0, line.rfind(',')) + "\n";
  std::ofstream(dir_.path() / "run" / "samples.csv", std::ios::binary) << old_csv;
  nlohmann::json record = read_json(dir_.path() / "run" / "record.json");
  record["data"].erase("samples_columns");
  record["data"]["manifest_sha256"] = sha256_hex(old_csv);
  std::ofstream(dir_.path() / "run" / "record.json") << record.dump(2);
  r = run_command(replay, dir_);
  EXPECT_EQ(r.exit_code, 0) << describe(replay, r);
  EXPECT_THAT(r.out, HasSubstr("identical"));
}

}  // namespace
}  // namespace thaw::testing
