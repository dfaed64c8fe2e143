#include "io/idx.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <numeric>

#include "tests/io/io_test_support.h"

namespace thaw {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::ScratchDir;
using testing::slurp;
using testing::spit;
using testing::user_error_of;

std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

// 3 images of 2x3 with pixel value 10 * image + position, and labels 7, 0, 255.
std::string images_file(int count = 3) {
  std::string s = be32(0x803) + be32(count) + be32(2) + be32(3);
  for (int i = 0; i < count; ++i)
    for (int p = 0; p < 6; ++p) s += static_cast<char>(10 * i + p);
  return s;
}
std::string labels_file() { return be32(0x801) + be32(3) + std::string("\x07\x00\xff", 3); }

void write_gz(const std::filesystem::path& p, const std::string& bytes) {
  gzFile f = gzopen(p.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())), static_cast<int>(bytes.size()));
  ASSERT_EQ(gzclose(f), Z_OK);
}

TEST(Idx, ReadsPlainAndGzipFiles) {
  ScratchDir dir;
  spit(dir / "img", images_file());
  spit(dir / "lab", labels_file());
  write_gz(dir / "img.gz", images_file());
  write_gz(dir / "lab.gz", labels_file());
  ASSERT_NE(slurp(dir / "img.gz"), images_file());  // really compressed

  for (const char* suffix : {"", ".gz"}) {
    const auto data = read_idx_labelled(dir / cat_str("img", suffix), dir / cat_str("lab", suffix));
    EXPECT_EQ(data.images.count, 3);
    EXPECT_EQ(data.images.rows, 2);
    EXPECT_EQ(data.images.cols, 3);
    ASSERT_EQ(data.images.pixels.size(), 18u);
    EXPECT_THAT(std::vector<uint8_t>(data.images.image(1), data.images.image(1) + 6), ElementsAre(10, 11, 12, 13, 14, 15));
    EXPECT_EQ(data.images.image(2)[5], 25);
    EXPECT_THAT(data.labels, ElementsAre(7, 0, 255));
  }
}

TEST(Idx, MalformedFilesAreUserErrorsNamingTheFile) {
  ScratchDir dir;
  const std::string img = images_file();
  struct Case {
    const char* what;
    std::string bytes;
    bool labels;
    const char* expected;
  };
  const std::vector<Case> cases = {
      {"empty", "", false, "file is 0 bytes, too short for an IDX header (expected uint8 images)"},
      {"labels as images", labels_file(), false, "bad magic 0x00000801, expected 0x00000803 (IDX uint8 images)"},
      {"images as labels", img, true, "bad magic 0x00000803, expected 0x00000801 (IDX uint8 labels)"},
      {"float images", be32(0xd03) + img.substr(4), false, "bad magic 0x00000d03"},
      {"text", "hello world, not idx", false, "bad magic 0x68656c6c"},
      {"short header", img.substr(0, 10), false, "truncated IDX header: 10 bytes, expected at least 16"},
      {"truncated pixels", img.substr(0, img.size() - 1), false, "truncated: 17 bytes of data, expected 18 for 3 images of 2x3"},
      {"extra pixels", img + "x", false, "19 bytes of data, expected 18 for 3 images of 2x3"},
      {"truncated labels", labels_file().substr(0, 9), true, "truncated: 1 bytes of data, expected 3 for 3 labels"},
      {"zero columns", be32(0x803) + be32(0xff000000u) + be32(7) + be32(0), false,
       "images of 7x0 pixels (IDX uint8 images)"},
      // 2^22 * 2^22 * 2^20 = 2^64 wraps to 0, the length of the data that follows: once accepted.
      {"sizes that wrap", be32(0x803) + be32(1u << 22) + be32(1u << 22) + be32(1u << 20), false,
       "4194304 images of 4194304x1048576 is more than any file holds"},
  };
  for (const Case& c : cases) {
    for (bool gz : {false, true}) {
      const auto path = dir / (gz ? "bad.gz" : "bad");
      if (gz) {
        write_gz(path, c.bytes);
      } else {
        spit(path, c.bytes);
      }
      const std::string msg =
          user_error_of([&] { c.labels ? (void)read_idx_labels(path) : (void)read_idx_images(path); });
      EXPECT_THAT(msg, HasSubstr(path.string() + ": ")) << c.what;
      EXPECT_THAT(msg, HasSubstr(c.expected)) << c.what << (gz ? " (gzip)" : "");
    }
  }
}

TEST(Idx, TruncatedOrCorruptGzipIsAUserError) {
  ScratchDir dir;
  std::string big = be32(0x803) + be32(100) + be32(28) + be32(28);
  for (int i = 0; i < 100 * 28 * 28; ++i) big += static_cast<char>((i * 2654435761u) >> 24);  // incompressible-ish
  write_gz(dir / "full.gz", big);
  const std::string gz = slurp(dir / "full.gz");
  spit(dir / "cut.gz", gz.substr(0, gz.size() / 2));
  EXPECT_THAT(user_error_of([&] { read_idx_images(dir / "cut.gz"); }),
              HasSubstr((dir / "cut.gz").string() + ": corrupt or truncated gzip data"));
  std::string flipped = gz;
  flipped[gz.size() - 6] ^= 0x5a;  // inside the CRC-32 trailer
  spit(dir / "crc.gz", flipped);
  EXPECT_THAT(user_error_of([&] { read_idx_images(dir / "crc.gz"); }),
              HasSubstr((dir / "crc.gz").string() + ": corrupt or truncated gzip data"));
  EXPECT_EQ(read_idx_images(dir / "full.gz").count, 100);
}

TEST(Idx, CountMismatchNamesBothFiles) {
  ScratchDir dir;
  spit(dir / "img", images_file(4));
  spit(dir / "lab", labels_file());
  EXPECT_EQ(user_error_of([&] { read_idx_labelled(dir / "img", dir / "lab"); }),
            (dir / "lab").string() + ": 3 labels, but " + (dir / "img").string() + " has 4 images");
}

TEST(Idx, MissingFileNamesPathAndReason) {
  ScratchDir dir;
  EXPECT_EQ(user_error_of([&] { read_idx_labels(dir / "nope.gz"); }),
            "cannot read " + (dir / "nope.gz").string() + ": No such file or directory");
}

TEST(Idx, FashionMnistTestSet) {
  const std::filesystem::path root = "/usr/share/datasets/fashion-mnist";
  const auto images = root / "t10k-images-idx3-ubyte.gz";
  const auto labels = root / "t10k-labels-idx1-ubyte.gz";
  if (!std::filesystem::exists(images) || !std::filesystem::exists(labels))
    GTEST_SKIP() << "Fashion-MNIST not installed at " << root;
  const auto data = read_idx_labelled(images, labels);
  EXPECT_EQ(data.images.count, 10000);
  EXPECT_EQ(data.images.rows, 28);
  EXPECT_EQ(data.images.cols, 28);
  std::vector<int> per_class(10, 0);
  for (uint8_t l : data.labels) {
    ASSERT_LT(l, 10);
    ++per_class[l];
  }
  EXPECT_THAT(per_class, ElementsAre(1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000));
  EXPECT_THAT(std::vector<uint8_t>(data.labels.begin(), data.labels.begin() + 10), ElementsAre(9, 2, 1, 1, 6, 1, 4, 6, 5, 7));
  // Pixel sums computed independently with Python's gzip + numpy.
  auto image_sum = [&](int64_t i) { return std::accumulate(data.images.image(i), data.images.image(i) + 784, int64_t{0}); };
  EXPECT_EQ(image_sum(0), 33456);
  EXPECT_EQ(image_sum(9999), 24390);
  EXPECT_EQ(std::accumulate(data.images.pixels.begin(), data.images.pixels.end(), int64_t{0}), 573469082);
}

}  // namespace
}  // namespace thaw
