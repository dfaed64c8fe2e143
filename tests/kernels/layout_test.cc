// Where the layout-aware GPU kernels find an element (kernels/cuda/layout.h), checked on the CPU:
// the storage index of (plane, position) is PyTorch's NCHW or channels-last index, walking the
// storage order visits every (plane, position) once, the channel is the plane's, and the host
// transpose agrees.
#include "kernels/cuda/layout.h"

#include <gtest/gtest.h>

#include <vector>

namespace thaw::cuda {
namespace {

void expect_layout(int64_t n, int64_t c, int64_t h, int64_t w, Layout layout) {
  const Planes p = Planes::of(c, h * w, layout);
  const int64_t total = n * c * h * w;
  std::vector<int> seen(static_cast<size_t>(total), 0);
  for (int64_t s = 0; s < n; ++s) {
    for (int64_t ch = 0; ch < c; ++ch) {
      for (int64_t y = 0; y < h; ++y) {
        for (int64_t x = 0; x < w; ++x) {
          const int64_t plane = s * c + ch, pos = y * w + x;
          // PyTorch's strides: NCHW (c*h*w, h*w, w, 1), channels_last (h*w*c, 1, w*c, c).
          const int64_t want = layout == Layout::nhwc ? s * h * w * c + y * w * c + x * c + ch
                                                      : s * c * h * w + ch * h * w + y * w + x;
          ASSERT_EQ(p.at(plane, pos), want) << "sample " << s << " channel " << ch << " at " << y << "," << x;
          ++seen[static_cast<size_t>(want)];
        }
      }
    }
  }
  for (int64_t e = 0; e < total; ++e) {
    ASSERT_EQ(seen[static_cast<size_t>(e)], 1) << "index " << e;
    ASSERT_EQ(p.at(p.plane_of(e), p.pos_of(e)), e) << "index " << e;
    ASSERT_EQ(p.channel_of(e), p.plane_of(e) % c) << "index " << e;
  }
}

TEST(Layout, StorageIndexIsPyTorchsForBothLayouts) {
  for (const Layout layout : {Layout::nchw, Layout::nhwc}) {
    expect_layout(1, 1, 1, 1, layout);
    expect_layout(2, 3, 5, 7, layout);
    expect_layout(3, 8, 1, 1, layout);  // after the global pool: both layouts agree
    expect_layout(2, 5, 4, 1, layout);
  }
  // A 1x1 plane is stored the same way in both (the classifier's input needs no transpose).
  const Planes a = Planes::of(6, 1, Layout::nchw), b = Planes::of(6, 1, Layout::nhwc);
  for (int64_t plane = 0; plane < 18; ++plane) EXPECT_EQ(a.at(plane, 0), b.at(plane, 0));
}

// The host transpose the executor's downloads and the GPU tests use puts each NCHW element where
// a channels-last kernel finds it, and back.
TEST(Layout, TheHostTransposeMovesEachElementToItsChannelsLastIndex) {
  const int64_t n = 2, c = 3, hw = 5;
  std::vector<int> x(static_cast<size_t>(n * c * hw));
  for (size_t e = 0; e < x.size(); ++e) x[e] = static_cast<int>(e);
  const std::vector<int> y = swap_inner_axes(x, n, c, hw);
  const Planes nchw = Planes::of(c, hw, Layout::nchw), nhwc = Planes::of(c, hw, Layout::nhwc);
  for (int64_t plane = 0; plane < n * c; ++plane) {
    for (int64_t pos = 0; pos < hw; ++pos) {
      EXPECT_EQ(y[static_cast<size_t>(nhwc.at(plane, pos))], x[static_cast<size_t>(nchw.at(plane, pos))]);
    }
  }
  EXPECT_EQ(swap_inner_axes(y, n, hw, c), x);
}

TEST(Layout, PixelChannelsRoundUpToEight) {
  EXPECT_EQ(pixel_channels(3), 8);
  EXPECT_EQ(pixel_channels(8), 8);
  EXPECT_EQ(pixel_channels(9), 16);
  EXPECT_EQ(pixel_channels(1536), 1536);
}

TEST(Layout, NeighbouringThreadsTouchNeighbouringChannelsInChannelsLast) {
  const Planes p = Planes::of(16, 9, Layout::nhwc);
  for (int64_t e = 0; e + 1 < 2 * 16 * 9; ++e) {
    if ((e + 1) % 16 == 0) continue;
    EXPECT_EQ(p.plane_of(e + 1), p.plane_of(e) + 1);
    EXPECT_EQ(p.pos_of(e + 1), p.pos_of(e));
  }
}

}  // namespace
}  // namespace thaw::cuda
