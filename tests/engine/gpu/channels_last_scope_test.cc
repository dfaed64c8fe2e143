// The channels-last scopes (engine/gpu/op_fusions.h ChannelsLast): their names, read back as the
// --channels-last flag reads them, with one clear message for anything else; and the design's
// premise for ChannelsLast::all: only the image needs its channels padded for cuDNN's tensor-core
// convolutions (kernels/cuda/layout.h pixel_channels), every other convolution input of Inception v4
// already holding a multiple of 8.
#include <gtest/gtest.h>

#include <string>

#include "core/error.h"
#include "engine/gpu/op_fusions.h"
#include "graph/inception_v4.h"
#include "kernels/cuda/layout.h"

namespace thaw {
namespace {

TEST(ChannelsLastScope, NamesReadBackAndAnythingElseIsOneClearError) {
  for (const ChannelsLast scope : {ChannelsLast::off, ChannelsLast::front, ChannelsLast::all}) {
    EXPECT_EQ(parse_channels_last(channels_last_name(scope), "--channels-last"), scope);
  }
  try {
    parse_channels_last("nhwc", "--channels-last");
    ADD_FAILURE() << "'nhwc' was accepted";
  } catch (const UserError& e) {
    EXPECT_EQ(std::string(e.what()), "--channels-last: expected off, front or all, got 'nhwc'");
  }
}

TEST(ChannelsLastScope, OnlyTheImageIsPaddedForTheTensorCores) {
  for (const int64_t size : {int64_t{299}, int64_t{139}}) {
    const Graph g = build_inception_v4(size, 7, 0.2);
    int readers_of_image = 0, convs = 0;
    for (const Node& n : g.nodes) {
      if (n.kind != OpKind::Conv) continue;
      ++convs;
      const int64_t c = g.nodes[static_cast<size_t>(n.inputs[0])].out[0];
      if (n.inputs[0] == 0) {
        ++readers_of_image;
        EXPECT_EQ(cuda::pixel_channels(c), 8) << n.name;
      } else {
        EXPECT_EQ(cuda::pixel_channels(c), c) << n.name << " reads " << c << " channels";
      }
    }
    EXPECT_EQ(readers_of_image, 1);
    EXPECT_GT(convs, 100);
  }
}

}  // namespace
}  // namespace thaw
