#include "io/resize.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "io/npy.h"
#include "tests/io/io_test_support.h"

namespace thaw {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using testing::run_python;
using testing::ScratchDir;

// Hand-computed: for 2 -> 4, scale 0.5, outputs sample source coordinates -0.25 (clamped to 0),
// 0.25, 0.75 and 1.25 (upper neighbour clamped to 1), i.e. weights 0, 1/4, 3/4, 1 on pixel 1.
TEST(Resize, TwoByTwoToFourByFour) {
  const float src[4] = {0, 10, 20, 30};
  float dst[16];
  resize_bilinear(src, 1, 2, 2, dst, 4, 4);
  EXPECT_THAT(dst, ElementsAre(0, 2.5, 7.5, 10,     //
                               5, 7.5, 12.5, 15,    //
                               15, 17.5, 22.5, 25,  //
                               20, 22.5, 27.5, 30));
}

// 4 -> 2 samples coordinates 0.5 and 2.5: each output is the mean of a 2x2 block.
TEST(Resize, FourByFourToTwoByTwoAveragesBlocks) {
  float src[16];
  for (int i = 0; i < 16; ++i) src[i] = static_cast<float>(i);
  float dst[4];
  resize_bilinear(src, 1, 4, 4, dst, 2, 2);
  EXPECT_THAT(dst, ElementsAre(2.5, 4.5, 10.5, 12.5));
}

// 3 -> 2 samples 0.25 and 1.75; 1 -> 3 replicates; rows and columns scale independently.
TEST(Resize, NonIntegerRatiosAndSeparateAxes) {
  const float row[3] = {0, 4, 8};
  float out[2];
  resize_bilinear(row, 1, 1, 3, out, 1, 2);
  EXPECT_THAT(out, ElementsAre(1, 7));
  const float one = 6;
  float three[3];
  resize_bilinear(&one, 1, 1, 1, three, 1, 3);
  EXPECT_THAT(three, ElementsAre(6, 6, 6));
  const float col[2] = {0, 8};  // 2 rows x 1 column -> 4 rows x 2 columns
  float grid[8];
  resize_bilinear(col, 1, 2, 1, grid, 4, 2);
  EXPECT_THAT(grid, ElementsAre(0, 0, 2, 2, 6, 6, 8, 8));
}

TEST(Resize, SameSizeIsExactCopy) {
  float src[6] = {0.1f, -3.7f, 1e-7f, 5.5f, 2.25f, -0.0f};
  float dst[6];
  resize_bilinear(src, 2, 1, 3, dst, 1, 3);
  EXPECT_THAT(dst, ElementsAreArray(src));
}

TEST(Resize, ThreeChannelsResizeIndependently) {
  const float src[12] = {0, 10, 20, 30,  // channel 0
                         1, 1, 1, 1,     // channel 1: constant stays constant
                         -4, 0, 0, 4};   // channel 2
  float dst[48];
  resize_bilinear(src, 3, 2, 2, dst, 4, 4);
  EXPECT_THAT(std::vector<float>(dst, dst + 4), ElementsAre(0, 2.5, 7.5, 10));
  for (int i = 16; i < 32; ++i) EXPECT_EQ(dst[i], 1.0f) << i;
  EXPECT_THAT(std::vector<float>(dst + 32, dst + 36), ElementsAre(-4, -3, -1, 0));
  EXPECT_THAT(std::vector<float>(dst + 44, dst + 48), ElementsAre(0, 1, 3, 4));
}

TEST(Resize, Uint8InputAndRoundedOutput) {
  const uint8_t src[4] = {0, 10, 20, 30};
  float f[16];
  resize_bilinear(src, 1, 2, 2, f, 4, 4);
  EXPECT_THAT(std::vector<float>(f + 4, f + 8), ElementsAre(5, 7.5, 12.5, 15));
  uint8_t u[16];
  resize_bilinear(src, 1, 2, 2, u, 4, 4);
  EXPECT_THAT(u, ElementsAre(0, 3, 8, 10, 5, 8, 13, 15, 15, 18, 23, 25, 20, 23, 28, 30));
  const uint8_t white[1] = {255};
  uint8_t big[4];
  resize_bilinear(white, 1, 1, 1, big, 2, 2);
  EXPECT_THAT(big, ElementsAre(255, 255, 255, 255));
}

TEST(Resize, GreyToNormalisedThreeChannels) {
  const uint8_t grey[4] = {0, 255, 255, 0};
  float same[12];
  grey_to_normalised_chw(grey, 2, 2, 2, same);
  EXPECT_THAT(same, ElementsAre(-1, 1, 1, -1, -1, 1, 1, -1, -1, 1, 1, -1));
  const uint8_t ramp[4] = {0, 255, 0, 255};
  float up[48];
  grey_to_normalised_chw(ramp, 2, 2, 4, up);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 4; ++y)
      EXPECT_THAT(std::vector<float>(up + c * 16 + y * 4, up + c * 16 + y * 4 + 4), ElementsAre(-1, -0.5, 0.5, 1));
}

TEST(Resize, IdxBatchGathersIndicesInOrder) {
  IdxImages im{3, 1, 2, {0, 51, 102, 153, 204, 255}};
  const std::vector<int64_t> idx = {2, 0};
  const Tensor<float> t = idx_batch_to_nchw(im, idx, 1);  // 1x2 -> 1x1 samples coordinate 0.5 in x
  EXPECT_EQ(t.shape(), (Shape{2, 3, 1, 1}));
  // Image 2: (204 + 255) / 2 / 255 = 0.9 -> 0.8; image 0: 25.5 / 255 = 0.1 -> -0.8.
  EXPECT_NEAR(t[0], 0.8f, 1e-6f);
  EXPECT_EQ(t[0], t[1]);
  EXPECT_EQ(t[0], t[2]);
  EXPECT_NEAR(t[3], -0.8f, 1e-6f);
  EXPECT_THROW(idx_batch_to_nchw(im, std::vector<int64_t>{3}, 1), InternalError);
}

// The documented PyTorch recipe, run by Debian's torch on random images, against ours.
TEST(ResizePython, MatchesTorchInterpolate) {
  THAW_REQUIRE_PYTHON("numpy, torch");
  ScratchDir dir;
  ASSERT_EQ(run_python(dir, R"PY(
import numpy as np
import torch
import torch.nn.functional as F
rng = np.random.default_rng(3)
img = rng.integers(0, 256, size=(28, 28), dtype=np.uint8)
np.save("img.npy", img)
for size in (13, 28, 37, 75, 299):
    x = torch.from_numpy(img).float()[None, None] / 255
    x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
    x = (x - 0.5) / 0.5
    np.save(f"out{size}.npy", x.expand(1, 3, size, size)[0].contiguous().numpy())
rgb = rng.standard_normal((3, 5, 7)).astype(np.float32)
np.save("rgb.npy", rgb)
np.save("rgb_out.npy", F.interpolate(torch.from_numpy(rgb)[None], size=(11, 4), mode="bilinear", align_corners=False)[0].numpy())
)PY"),
            0);
  const NpyArray img = read_npy(dir / "img.npy");
  ASSERT_EQ(img.shape, (Shape{28, 28}));
  for (int64_t size : {13, 28, 37, 75, 299}) {
    const std::vector<float> expected = read_npy(dir / cat_str("out", size, ".npy")).to_float();
    std::vector<float> ours(static_cast<size_t>(3 * size * size));
    grey_to_normalised_chw(img.bytes.data(), 28, 28, size, ours.data());
    ASSERT_EQ(ours.size(), expected.size());
    float worst = 0;
    for (size_t i = 0; i < ours.size(); ++i) worst = std::max(worst, std::abs(ours[i] - expected[i]));
    // Same taps and weights as torch; only the last-bit rounding of the blend differs (torch's
    // vectorised kernel orders it differently), i.e. up to 2 ulp of 1.0 after the x2 of the
    // normalisation. A wrong sampling formula is off by 1e-6 (float coordinates) to 1e-2.
    EXPECT_LE(worst, 2.5e-7f) << "size " << size;
  }
  const std::vector<float> rgb = read_npy(dir / "rgb.npy").to_float();
  const std::vector<float> expected = read_npy(dir / "rgb_out.npy").to_float();
  std::vector<float> ours(3 * 11 * 4);
  resize_bilinear(rgb.data(), 3, 5, 7, ours.data(), 11, 4);
  for (size_t i = 0; i < ours.size(); ++i) EXPECT_NEAR(ours[i], expected[i], 1e-6f) << i;
}

}  // namespace
}  // namespace thaw
