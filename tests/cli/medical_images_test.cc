// The images medical teams have, through the command line: a folder of DICOM (CT values with a
// window, MONOCHROME1), 16-bit TIFF and 16-bit PNG files is checked, trained on and packed; the
// run records the pixel mapping with --window; bad --window and --dicom-frame values are one line.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "tests/cli/cli_harness.h"

namespace thaw::testing {
namespace {

using ::testing::HasSubstr;

// Class a: 3 signed CT DICOM files with a rescale and a window, 2 16-bit TIFFs; class b: 3
// MONOCHROME1 DICOM files without a window, 2 16-bit PNGs.
constexpr const char* kMedical = R"PY(
import os, sys
import numpy as np
from PIL import Image
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
rng = np.random.default_rng(5)
root = os.path.join(sys.argv[1], "data")
def dicom(path, rows, cols, photometric, signed):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset(); ds.file_meta = meta; ds.is_little_endian = True; ds.is_implicit_VR = False
    ds.SOPClassUID = meta.MediaStorageSOPClassUID; ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Rows, ds.Columns, ds.SamplesPerPixel = rows, cols, 1
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
    ds.PixelRepresentation = 1 if signed else 0
    if signed:
        ds.RescaleSlope, ds.RescaleIntercept = "1", "-1024"
        ds.WindowCenter, ds.WindowWidth = "40", "400"
        px = rng.integers(-2048, 2048, (rows, cols)).astype(np.int16)
    else:
        px = rng.integers(0, 4096, (rows, cols)).astype(np.uint16)
    ds.PixelData = px.tobytes()
    ds.save_as(path, write_like_original=False)
for c in ("a", "b"):
    os.makedirs(os.path.join(root, c))
for i in range(3):
    dicom(os.path.join(root, "a", "ct%d.dcm" % i), 60 + i, 70, "MONOCHROME2", True)
    dicom(os.path.join(root, "b", "cr%d.dicom" % i), 64, 66 + i, "MONOCHROME1", False)
for i in range(2):
    Image.fromarray(rng.integers(0, 65536, (62, 71)).astype(np.uint16)).save(os.path.join(root, "a", "s%d.tif" % i))
    Image.fromarray(rng.integers(0, 65536, (65, 63)).astype(np.uint16)).save(os.path.join(root, "b", "p%d.png" % i))
)PY";

class MedicalImages : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!thaw_binary_exists()) GTEST_SKIP() << "thaw binary not built: " << THAW_BINARY;
    std::ofstream(dir_ / "make.py") << kMedical;
    const std::string cmd =
        std::string(kPython) + " " + sh_quote(dir_ / "make.py") + " " + sh_quote(dir_.path().string());
    const CommandResult r = run_command(cmd, dir_);
    if (r.exit_code != 0) GTEST_SKIP() << "Debian's python3 with numpy, PIL and pydicom is needed: " << r.err;
  }
  std::string data() const { return dir_ / "data"; }
  std::string train(const std::string& data, const std::string& out, const std::string& extra) const {
    return kPassive + std::string(THAW_BINARY) + " train --data " + sh_quote(data) + " --out " + sh_quote(out) +
           " --input-size 75 --batch-size 2 --max-steps 2 --freeze-through mixed_7d --val-fraction 0.3 " + extra;
  }
  ScratchDir dir_;
};

TEST_F(MedicalImages, CheckedTrainedAndPackedWithTheRuleRecorded) {
  const std::string check = std::string(THAW_BINARY) + " data check " + sh_quote(data());
  CommandResult r = run_command(check, dir_);
  ASSERT_EQ(r.exit_code, 0) << describe(check, r);
  EXPECT_THAT(r.out, HasSubstr("data: " + data() + " (10 images, 2 classes"));
  EXPECT_THAT(r.out, HasSubstr("formats: dicom 6 png 2 tiff 2"));
  EXPECT_THAT(r.out + r.err, ::testing::Not(HasSubstr("left out")));

  const std::string run = train(data(), dir_ / "run", "--window 40,400");
  r = run_command(run, dir_);
  ASSERT_EQ(r.exit_code, 0) << describe(run, r);
  const std::string record = read_text(dir_.path() / "run" / "record.json");
  EXPECT_THAT(record, HasSubstr("\"window\": \"40,400\""));
  EXPECT_THAT(record, HasSubstr("\"pixel_mapping\": \"8-bit JPEG/PNG/TIFF: v/255"));
  EXPECT_THAT(record, HasSubstr("the window 40,400 (--window)"));

  const std::string pack = std::string(THAW_BINARY) + " pack " + sh_quote(data()) + " --input-size 75 --out " +
                           sh_quote(dir_ / "pack") + " --window -600,1500";
  r = run_command(pack, dir_);
  ASSERT_EQ(r.exit_code, 0) << describe(pack, r);
  EXPECT_THAT(read_text(dir_.path() / "pack" / "pack.json"), HasSubstr("the window -600,1500 (--window)"));
  const std::string on_pack = train(dir_ / "pack", dir_ / "run2", "--window 40,400");
  r = run_command(on_pack, dir_);
  EXPECT_EQ(r.exit_code, 2) << describe(on_pack, r);
  EXPECT_THAT(r.err, HasSubstr("holds pixels already mapped (pack.json pixel_mapping); give them to thaw pack"));
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "run2" / "record.json"));
}

TEST_F(MedicalImages, BadWindowAndFrameAreOneLine) {
  const std::string bad_window = train(data(), dir_ / "run", "--window 40");
  CommandResult r = run_command(bad_window, dir_);
  EXPECT_EQ(r.exit_code, 2) << describe(bad_window, r);
  EXPECT_THAT(r.err, HasSubstr("--window"));
  EXPECT_THAT(r.err, HasSubstr("expected CENTRE,WIDTH"));
  EXPECT_EQ(count_lines(r.err), 1u) << r.err;

  const std::string bad_frame = train(data(), dir_ / "run", "--dicom-frame 2");
  r = run_command(bad_frame, dir_);
  EXPECT_EQ(r.exit_code, 2) << describe(bad_frame, r);
  EXPECT_THAT(r.err, HasSubstr("--dicom-frame 2 is past the file's 1 frame (frames count from 0)"));
}

}  // namespace
}  // namespace thaw::testing
