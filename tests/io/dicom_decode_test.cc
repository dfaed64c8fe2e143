// Reading DICOM: the grey levels thaw makes of each file (io/pixel_mapping.h's rule) against
// pydicom's (tests/io/dicom_reference.py: pixel_array, apply_modality_lut, apply_windowing,
// convert_color_space) on files made there and on pydicom's own test files; transfer syntaxes
// pydicom cannot decode here against the same pixels stored plainly; and the refusals.
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "io/image_decode.h"
#include "io/pixel_mapping.h"
#include "tests/io/io_test_support.h"

namespace thaw {
namespace {

using ::testing::HasSubstr;
using testing::ScratchDir;
using testing::slurp;
using testing::spit;
using testing::user_error_of;

constexpr const char* kPydicomFiles = "/usr/lib/python3/dist-packages/pydicom/data/test_files/";

std::string pydicom_file(const std::string& name) { return slurp(std::string(kPydicomFiles) + name); }

struct Case {
  std::string name, file, window;
  int64_t frame = 0, channels = 0, width = 0, height = 0;
};

// The reference cases, made once for all the tests of this file.
class DicomReference : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (testing::python_missing("numpy, pydicom")) return;
    dir_ = new ScratchDir;
    const std::string cmd = cat_str(testing::kDebianPython, " '", THAW_SOURCE_DIR, "/tests/io/dicom_reference.py' '",
                                    dir_->path().string(), "'");
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    std::istringstream lines(slurp(*dir_ / "cases.txt"));
    for (std::string line; std::getline(lines, line);) {
      std::istringstream f(line);
      Case c;
      f >> c.name >> c.file >> c.frame >> c.window >> c.channels >> c.width >> c.height;
      cases_.push_back(c);
    }
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
    cases_.clear();
  }
  void SetUp() override { THAW_REQUIRE_PYTHON("numpy, pydicom"); }

  static std::vector<double> expected(const Case& c) {
    const std::string bytes = slurp(*dir_ / (c.name + ".f64"));
    std::vector<double> v(bytes.size() / sizeof(double));
    std::memcpy(v.data(), bytes.data(), v.size() * sizeof(double));
    return v;
  }
  static PixelMapping mapping(const Case& c) { return pixel_mapping_of(c.window == "-" ? "" : c.window, c.frame); }
  static Image decode(const Case& c) {
    return decode_image(slurp(*dir_ / c.file), c.file, 0, kMaxImagePixels, mapping(c));
  }

  static inline ScratchDir* dir_ = nullptr;
  static inline std::vector<Case> cases_;
};

// Grey levels to 1/65535 (each is rounded once, to nearest); 8-bit colour exactly.
TEST_F(DicomReference, EveryCaseMatchesPydicom) {
  ASSERT_GE(cases_.size(), 20u) << "dicom_reference.py wrote too few cases";
  for (const Case& c : cases_) {
    SCOPED_TRACE(c.name);
    const Image img = decode(c);
    ASSERT_EQ(img.width, c.width);
    ASSERT_EQ(img.height, c.height);
    const std::vector<double> want = expected(c);
    ASSERT_EQ(static_cast<int64_t>(want.size()), c.width * c.height * c.channels);
    int64_t bad = 0;
    double worst = 0;
    for (int64_t p = 0; p < c.width * c.height; ++p) {
      for (int ch = 0; ch < 3; ++ch) {
        const double w = want[static_cast<size_t>(p * c.channels + (c.channels == 1 ? 0 : ch))];
        const double got = img.high_precision() ? img.rgb16[static_cast<size_t>(3 * p + ch)] / 65535.0
                                                : img.rgb[static_cast<size_t>(3 * p + ch)] / 255.0;
        const double tol = img.high_precision() ? 0.5 / 65535 + 1e-12 : 1e-12;
        worst = std::max(worst, std::abs(got - w));
        if (std::abs(got - w) > tol) ++bad;
      }
    }
    EXPECT_EQ(bad, 0) << "largest difference " << worst;
    // The 8-bit image is the full-precision one rounded.
    if (img.high_precision()) {
      for (size_t i = 0; i < img.rgb.size(); ++i) {
        ASSERT_EQ(img.rgb[i], (2 * img.rgb16[i] + 257) / 514) << i;
      }
    }
  }
}

// Header and pixels agree, and the data check's view of a file is its decoder's.
TEST_F(DicomReference, HeaderMatchesThePixels) {
  for (const Case& c : cases_) {
    SCOPED_TRACE(c.name);
    const ImageHeader h = read_image_header(slurp(*dir_ / c.file), c.file, kMaxImagePixels, mapping(c));
    EXPECT_EQ(h.format, "dicom");
    EXPECT_EQ(h.width, c.width);
    EXPECT_EQ(h.height, c.height);
  }
}

// Decoding is the same bits on any thread, several at once.
TEST_F(DicomReference, SameBitsOnEveryThread) {
  std::vector<Image> once;
  for (const Case& c : cases_) once.push_back(decode(c));
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = 0; i < cases_.size(); ++i) {
        const Image again = decode(cases_[(i + t) % cases_.size()]);
        const Image& first = once[(i + t) % cases_.size()];
        if (again.rgb != first.rgb || again.rgb16 != first.rgb16) ++mismatches[t];
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_THAT(mismatches, ::testing::Each(0));
}

// Made by pydicom: MPEG-2 video, which no decoder here reads, and a file without pixel data.
TEST_F(DicomReference, UndecodableAndEmptyFilesAreOneLine) {
  const std::string mpeg = user_error_of([] { decode_image(slurp(*dir_ / "mpeg2.dcm"), "mpeg2.dcm"); });
  EXPECT_THAT(mpeg, HasSubstr("mpeg2.dcm: "));
  EXPECT_THAT(mpeg, HasSubstr("1.2.840.10008.1.2.4.100"));
  EXPECT_EQ(mpeg.find('\n'), std::string::npos);
  EXPECT_THAT(user_error_of([] { decode_image(slurp(*dir_ / "no_pixels.dcm"), "no_pixels.dcm"); }),
              HasSubstr("no_pixels.dcm: DICOM file without pixel data (expected an image)"));
}

// JPEG-LS, which pydicom cannot decode here: the same pixels as the plain file it was made from.
TEST(DicomDecode, JpegLsLosslessEqualsThePlainFile) {
  const std::string plain = pydicom_file("MR_small.dcm"), jls = pydicom_file("MR_small_jpeg_ls_lossless.dcm");
  if (plain.empty() || jls.empty()) GTEST_SKIP() << "pydicom's test files are not in " << kPydicomFiles;
  const Image a = decode_image(plain, "MR_small.dcm"), b = decode_image(jls, "MR_small_jpeg_ls_lossless.dcm");
  EXPECT_EQ(a.width, 64);
  EXPECT_EQ(a.rgb16, b.rgb16);
  EXPECT_EQ(a.rgb, b.rgb);
}

// --window replaces the file's own; --dicom-frame picks a frame; the recorded rule names both.
TEST(DicomDecode, GivenWindowAndFrameAreInTheRecordedRule) {
  const PixelMapping m = pixel_mapping_of("40,400", 3);
  ASSERT_TRUE(m.window.has_value());
  EXPECT_EQ(m.window->centre, 40);
  EXPECT_EQ(m.window->width, 400);
  EXPECT_EQ(m.frame, 3);
  EXPECT_THAT(describe_pixel_mapping(m), HasSubstr("DICOM frame 3"));
  EXPECT_THAT(describe_pixel_mapping(m), HasSubstr("the window 40,400 (--window)"));
  EXPECT_THAT(describe_pixel_mapping({}), HasSubstr("the file's first Window Center/Width"));
}

// The standard's functions at their edges (PS3.3 C.11.2.1.2.1 and C.11.2.1.3).
TEST(DicomDecode, VoiFunctionsAtTheirEdges) {
  const VoiWindow w{40, 400};
  EXPECT_EQ(voi_linear(40 - 0.5 - 199.5, w), 0.0);
  EXPECT_EQ(voi_linear(40 - 0.5 + 199.5 + 1e-9, w), 1.0);
  EXPECT_DOUBLE_EQ(voi_linear(39.5, w), 0.5);
  EXPECT_EQ(voi_linear(10, {10.5, 1}), 0.0);  // width 1: a step at c - 0.5
  EXPECT_EQ(voi_linear(10.0001, {10.5, 1}), 1.0);
  EXPECT_EQ(voi_linear_exact(-160, w), 0.0);
  EXPECT_DOUBLE_EQ(voi_linear_exact(140, w), 0.75);
  EXPECT_DOUBLE_EQ(voi_sigmoid(40, w), 0.5);
  EXPECT_NEAR(voi_sigmoid(140, w), 1 / (1 + std::exp(-1.0)), 1e-15);
  EXPECT_EQ(unit_to_u16(-0.1), 0);
  EXPECT_EQ(unit_to_u16(0.5), 32768);
  EXPECT_EQ(unit_to_u16(1.2), 65535);
  EXPECT_EQ(unit_to_u16(std::nan("")), 0);
}

TEST(DicomDecode, BadFlagsAreOneLineNamingThem) {
  EXPECT_THAT(user_error_of([] { parse_window("40"); }), HasSubstr("--window: expected CENTRE,WIDTH"));
  EXPECT_THAT(user_error_of([] { parse_window("40,abc"); }), HasSubstr("got '40,abc'"));
  EXPECT_THAT(user_error_of([] { parse_window("40,nan"); }), HasSubstr("--window: expected CENTRE,WIDTH"));
  EXPECT_THAT(user_error_of([] { parse_window("40,0.5"); }), HasSubstr("--window: the width must be at least 1"));
  EXPECT_THAT(user_error_of([] { checked_dicom_frame(-1); }), HasSubstr("--dicom-frame: expected a frame number"));
}

// What thaw does not read: one line naming the file and what was expected.
TEST(DicomDecode, RefusalsNameTheFileAndWhatWasExpected) {
  if (pydicom_file("CT_small.dcm").empty()) GTEST_SKIP() << "pydicom's test files are not in " << kPydicomFiles;
  const auto error_of = [](const std::string& file, const PixelMapping& m = {}) {
    return user_error_of([&] { decode_image(pydicom_file(file), file, 0, kMaxImagePixels, m); });
  };
  EXPECT_THAT(error_of("MR_truncated.dcm"), HasSubstr("MR_truncated.dcm: truncated DICOM"));
  EXPECT_THAT(error_of("rtdose_1frame.dcm"), HasSubstr("Frame Increment Pointer without Number of Frames"));
  EXPECT_THAT(error_of("rtdose.dcm"), HasSubstr("expected 8 or 16 bits allocated"));
  EXPECT_THAT(error_of("SC_rgb_rle_16bit.dcm"), HasSubstr("16-bit colour RLE DICOM is not read"));
  EXPECT_THAT(error_of("liver_1frame.dcm"), HasSubstr("expected 8 or 16 bits allocated"));
  EXPECT_THAT(error_of("rtplan.dcm"), HasSubstr("rtplan.dcm: DICOM file without pixel data (expected an image)"));
  EXPECT_THAT(error_of("CT_small.dcm", pixel_mapping_of("", 1)),
              HasSubstr("CT_small.dcm: --dicom-frame 1 is past the file's 1 frame (frames count from 0)"));
  EXPECT_THAT(user_error_of([] { decode_image(pydicom_file("CT_small.dcm"), "ct.dcm", 0, 1000); }),
              HasSubstr("ct.dcm: image of 128x128 pixels is larger than the limit"));
}

// Not pixel data at all: a corrupt file, the preamble alone, a claim past the end of the file.
TEST(DicomDecode, CorruptAndUndecodableFilesAreOneLine) {
  std::string preamble(128, '\0');
  preamble += "DICM";
  EXPECT_THAT(user_error_of([&] { decode_image(preamble, "empty.dcm"); }), HasSubstr("empty.dcm: "));
  std::string junk = preamble + std::string(64, '\xff');
  EXPECT_THAT(user_error_of([&] { decode_image(junk, "junk.dcm"); }), HasSubstr("junk.dcm: "));
  // A Pixel Data claiming 4 GiB in a 200-byte file: refused before GDCM would allocate the claim.
  const std::string huge = slurp(std::string(THAW_SOURCE_DIR) + "/tests/io/data/fuzz/image/hand-dicom-huge-pixel-length");
  EXPECT_THAT(user_error_of([&] { decode_image(huge, "huge.dcm"); }),
              HasSubstr("huge.dcm: truncated DICOM (its pixel data claim 4294967280 bytes; the file ends 8 bytes"));
}

}  // namespace
}  // namespace thaw
