// Layer-wise learning-rate decay: the multipliers follow timm's rule over Inception's blocks (the
// head keeps lr, each block towards the input a factor D less), a parameter's step uses lr x its
// multiplier rounded to float (as a PyTorch parameter group's lr is), and a multiplier of 1 gives
// the bits of an optimizer without the option, for SGD and AdamW.
#include "engine/optim/layer_decay.h"

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "engine/optim/optimizer.h"
#include "graph/network.h"
#include "tests/support/user_error.h"

namespace thaw {
namespace {

TEST(LayerDecay, TimmsRuleOverTheBlocks) {
  const Graph g = build_network("inception_v4", 75, 3);
  const int last = static_cast<int>(g.blocks.size()) - 1;
  EXPECT_TRUE(layer_decay_scales(g, 1.0).empty());
  const auto s = layer_decay_scales(g, 0.5);
  EXPECT_EQ(s.at("last_linear.weight"), 1.0);
  EXPECT_EQ(s.at("last_linear.bias"), 1.0);
  EXPECT_EQ(s.at("features.21.branch0.conv.weight"), 0.5);  // mixed_7d, the block before the head
  EXPECT_EQ(s.at("features.0.conv.weight"), std::pow(0.5, last));  // conv2d_1a
  EXPECT_EQ(s.at("features.0.bn.weight"), std::pow(0.5, last));
  EXPECT_EQ(s.count("features.0.bn.running_mean"), 0u);  // buffers do not learn
  testkit::expect_user_error_naming([&] { layer_decay_scales(g, 0.0); }, "--layer-decay");
  testkit::expect_user_error_naming([&] { layer_decay_scales(g, 1.5); }, "--layer-decay");
}

TEST(LrGroups, RangesOfBlocksGetTheirFactorsAndTheRestKeepsLr) {
  const Graph g = build_network("inception_v4", 75, 3);
  EXPECT_TRUE(lr_group_scales(g, "").empty());
  const auto s = lr_group_scales(g, "conv2d_1a..mixed_5e=0.1,mixed_6a..mixed_6h=0.3,mixed_7d=0.5");
  EXPECT_EQ(s.at("features.0.conv.weight"), 0.1);      // conv2d_1a
  EXPECT_EQ(s.at("features.21.branch0.conv.weight"), 0.5);  // mixed_7d
  EXPECT_EQ(s.count("last_linear.weight"), 0u);        // the head: lr
  // features.N is timm's module: an alias of the block name.
  EXPECT_EQ(lr_group_scales(g, "features.0..features.1=2").at("features.1.conv.weight"), 2.0);
  const auto both = combine_scales(layer_decay_scales(g, 0.5), s);
  EXPECT_EQ(both.at("features.21.branch0.conv.weight"), 0.25);
  EXPECT_EQ(both.at("last_linear.weight"), 1.0);
  for (const char* bad : {"mixed_9z=0.1", "mixed_6h..mixed_6a=0.1", "mixed_6a..mixed_6h=0.1,mixed_6e=2", "mixed_6a",
                          "mixed_6a=0", "mixed_6a=nan", "mixed_6a=1e9", "mixed_6a=x"}) {
    testkit::expect_user_error_naming([&] { lr_group_scales(g, bad); }, "--lr-groups");
  }
}

// One step of two copies of the same parameter, "a" scaled by `scale_a` and "b" unscaled.
std::vector<float> one_step(OptimizerConfig cfg, double scale_a, std::vector<float>& b_out) {
  std::vector<float> a = {1.0f, -0.3f, 0.7f}, b = a, g = {0.11f, -0.27f, 0.5f};
  if (scale_a != 1.0) cfg.lr_scale = {{"a", scale_a}};
  Optimizer<float> opt(cfg, {{"a", a.data(), g.data(), 3, true}, {"b", b.data(), g.data(), 3, true}});
  opt.step(0.1);
  b_out = b;
  return a;
}

TEST(LayerDecay, EachParameterStepsAtItsOwnRate) {
  OptimizerConfig sgd;
  sgd.kind = OptimizerConfig::Kind::Sgd;
  sgd.momentum = 0.9;  // the first step of momentum SGD is p - lr g
  std::vector<float> b;
  const std::vector<float> a = one_step(sgd, 0.25, b);
  const std::vector<float> p0 = {1.0f, -0.3f, 0.7f}, g = {0.11f, -0.27f, 0.5f};
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(a[i], p0[i] + static_cast<float>(-0.1 * 0.25) * g[i]) << i;
    EXPECT_EQ(b[i], p0[i] + static_cast<float>(-0.1) * g[i]) << i;
  }
}

TEST(LayerDecay, AScaleOfOneIsTheUnscaledOptimizerBitForBit) {
  for (const auto kind : {OptimizerConfig::Kind::Sgd, OptimizerConfig::Kind::AdamW}) {
    OptimizerConfig c;
    c.kind = kind;
    c.weight_decay = 0.05;
    std::vector<float> b_plain, b_scaled;
    const std::vector<float> a_plain = one_step(c, 1.0, b_plain);
    c.lr_scale = {{"b", 0.5}};  // "a" is not named: scale 1
    const std::vector<float> a_scaled = one_step(c, 1.0, b_scaled);
    EXPECT_EQ(a_scaled, a_plain);
    EXPECT_NE(b_scaled, b_plain);
  }
}

}  // namespace
}  // namespace thaw
