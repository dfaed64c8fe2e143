#include "graph/inception_v3.h"

#include <gtest/gtest.h>

#include <set>

#include "core/error.h"
#include "graph/network.h"

namespace thaw {
namespace {

// timm's inception_v3 with 1000 classes and no auxiliary head (issue 7's figures).
TEST(InceptionV3, TotalsMatchTimm) {
  const Graph g = build_inception_v3(299, 1000);
  EXPECT_EQ(g.parameter_count(), 23'834'568);
  EXPECT_EQ(g.macs(), 5'713'216'096);
}

// Hand-counted from the layer list (conv weights, then 2 BN parameters per channel).
TEST(InceptionV3, BlockFiguresByHand) {
  const Graph g = build_inception_v3(299, 1000);
  // Mixed_5b on 192 x 35 x 35: 1x1 64; 1x1 48 -> 5x5 64; 1x1 64 -> 3x3 96 -> 3x3 96; pool -> 1x1 32.
  const int64_t conv5b = 192 * 64 + 192 * 48 + 48 * 64 * 25 + 192 * 64 + 64 * 96 * 9 + 96 * 96 * 9 + 192 * 32;
  const int64_t bn5b = 2 * (64 + 48 + 64 + 64 + 96 + 96 + 32);
  EXPECT_EQ(g.block_parameter_count(g.find_block("Mixed_5b")), conv5b + bn5b);
  EXPECT_EQ(g.block_macs(g.find_block("mixed0")), conv5b * 35 * 35);
  // The stem's first conv: 3 -> 32, 3x3 stride 2 onto 149 x 149.
  EXPECT_EQ(g.block_parameter_count(0), 3 * 32 * 9 + 2 * 32);
  EXPECT_EQ(g.block_macs(0), 3 * 32 * 9 * 149 * 149);
  EXPECT_EQ(g.block_parameter_count(g.find_block("head")), 2048 * 1000 + 1000);
  EXPECT_EQ(g.block_parameter_count(g.find_block("Pool1")), 0);
  struct Row { const char* name; int64_t c, h; };
  for (const Row& r : {Row{"Conv2d_4a_3x3", 192, 71}, Row{"Pool2", 192, 35}, Row{"Mixed_5b", 256, 35},
                       Row{"Mixed_5c", 288, 35}, Row{"Mixed_5d", 288, 35}, Row{"Mixed_6a", 768, 17},
                       Row{"Mixed_6e", 768, 17}, Row{"Mixed_7a", 1280, 8}, Row{"Mixed_7b", 2048, 8},
                       Row{"Mixed_7c", 2048, 8}}) {
    SCOPED_TRACE(r.name);
    EXPECT_EQ(g.nodes[g.blocks[g.find_block(r.name)].last_node].out, (Shape{r.c, r.h, r.h}));
  }
}

TEST(InceptionV3, BlocksAndKerasAliases) {
  const Graph g = build_inception_v3(299, 10);
  ASSERT_EQ(g.blocks.size(), 19u);
  EXPECT_EQ(g.blocks[0].name, "Conv2d_1a_3x3");
  EXPECT_EQ(g.blocks[7].name, "Mixed_5b");
  EXPECT_EQ(g.blocks[17].name, "Mixed_7c");
  EXPECT_EQ(g.blocks[18].name, "head");
  const char* keras[] = {"mixed0", "mixed1", "mixed2", "mixed3", "mixed4", "mixed5",
                         "mixed6", "mixed7", "mixed8", "mixed9", "mixed10"};
  const char* timm[] = {"Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c",
                        "Mixed_6d", "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c"};
  for (int i = 0; i < 11; ++i) EXPECT_EQ(g.find_block(keras[i]), g.find_block(timm[i])) << keras[i];
  EXPECT_EQ(g.find_block("mixed0"), 7);
  try {
    g.find_block("mixed_6h");  // a v4 block
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("inception_v3"), std::string::npos) << what;
    EXPECT_NE(what.find("Mixed_7c"), std::string::npos) << what;
    EXPECT_NE(what.find("mixed10"), std::string::npos) << what;
  }
  for (size_t i = 1; i < g.blocks.size(); ++i) EXPECT_EQ(g.blocks[i].first_node, g.blocks[i - 1].last_node + 1);
  EXPECT_EQ(g.blocks.back().last_node, g.output_node());
}

TEST(InceptionV3, TimmStateDictKeys) {
  const Graph g = build_inception_v3(299, 1000);
  std::set<std::string> names;
  for (const auto& t : g.tensors) EXPECT_TRUE(names.insert(t.name).second) << "duplicate " << t.name;
  // 94 BasicConv2d modules (Keras' 94 conv + BN pairs), 6 entries each, plus fc's two.
  EXPECT_EQ(g.tensors.size(), 94u * 6 + 2);
  for (const char* key :
       {"Conv2d_1a_3x3.conv.weight", "Conv2d_4a_3x3.bn.running_var", "Mixed_5b.branch5x5_2.conv.weight",
        "Mixed_5d.branch_pool.bn.num_batches_tracked", "Mixed_6a.branch3x3dbl_3.conv.weight",
        "Mixed_6e.branch7x7dbl_5.bn.bias", "Mixed_7a.branch7x7x3_4.conv.weight", "Mixed_7c.branch3x3dbl_3b.bn.weight",
        "fc.weight", "fc.bias"}) {
    EXPECT_GE(g.find_tensor(key), 0) << key;
  }
  EXPECT_EQ(g.tensors[g.find_tensor("Mixed_5b.branch5x5_2.conv.weight")].shape, (Shape{64, 48, 5, 5}));
  EXPECT_EQ(g.tensors[g.find_tensor("Mixed_6c.branch7x7_2.conv.weight")].shape, (Shape{160, 160, 1, 7}));
  EXPECT_EQ(g.tensors[g.find_tensor("Mixed_7b.branch3x3_2b.conv.weight")].shape, (Shape{384, 384, 3, 1}));
  EXPECT_EQ(g.tensors[g.find_tensor("Mixed_7c.branch_pool.conv.weight")].shape, (Shape{192, 2048, 1, 1}));
  EXPECT_EQ(g.tensors[g.find_tensor("fc.weight")].shape, (Shape{1000, 2048}));
  EXPECT_TRUE(g.is_head_tensor(g.find_tensor("fc.bias")));
  EXPECT_FALSE(g.is_head_tensor(g.find_tensor("Mixed_7c.branch_pool.bn.bias")));
}

// Concats take their branches in timm's order; Mixed_7b's middle inputs are the 1x3 / 3x1 pairs.
TEST(InceptionV3, ConcatOrder) {
  const Graph g = build_inception_v3(299, 1000);
  auto node = [&](const std::string& name) {
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      if (g.nodes[i].name == name) return static_cast<int>(i);
    }
    ADD_FAILURE() << "no node " << name;
    return -1;
  };
  auto input_names = [&](const std::string& name) {
    std::vector<std::string> out;
    for (int in : g.nodes[node(name)].inputs) out.push_back(g.nodes[in].name);
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(input_names("Mixed_5b.cat"), (V{"Mixed_5b.branch1x1.act", "Mixed_5b.branch5x5_2.act",
                                             "Mixed_5b.branch3x3dbl_3.act", "Mixed_5b.branch_pool.act"}));
  EXPECT_EQ(input_names("Mixed_6a.cat"), (V{"Mixed_6a.branch3x3.act", "Mixed_6a.branch3x3dbl_3.act", "Mixed_6a.max_pool"}));
  EXPECT_EQ(input_names("Mixed_7b.cat"), (V{"Mixed_7b.branch1x1.act", "Mixed_7b.cat3x3", "Mixed_7b.cat3x3dbl",
                                             "Mixed_7b.branch_pool.act"}));
  EXPECT_EQ(input_names("Mixed_7b.cat3x3"), (V{"Mixed_7b.branch3x3_2a.act", "Mixed_7b.branch3x3_2b.act"}));
}

// The weights' conventions reach every average pool and batch-norm node.
TEST(InceptionV3, ConventionsOnTheNodes) {
  for (bool count_pad : {true, false}) {
    const Graph g = build_inception_v3(139, 5, 0.0, {.avgpool_count_pad = count_pad, .bn_eps = 2e-5});
    int pools = 0, bns = 0;
    for (const Node& n : g.nodes) {
      if (n.kind == OpKind::AvgPool) {
        ++pools;
        EXPECT_EQ(n.pool_count_pad, count_pad) << n.name;
      }
      if (n.kind == OpKind::BatchNorm) {
        ++bns;
        EXPECT_EQ(n.eps, 2e-5) << n.name;
      }
    }
    EXPECT_EQ(pools, 9);  // Mixed_5b-5d, 6b-6e, 7b, 7c
    EXPECT_EQ(bns, 94);
  }
  EXPECT_TRUE(default_conventions("inception_v3").avgpool_count_pad);
  EXPECT_FALSE(default_conventions("inception_v4").avgpool_count_pad);
}

TEST(InceptionV3, SmallestInputAndErrors) {
  const Graph g = build_inception_v3(75, 3);
  EXPECT_EQ(g.nodes[g.blocks[17].last_node].out, (Shape{2048, 1, 1}));
  EXPECT_EQ(g.parameter_count(), build_inception_v3(299, 3).parameter_count());
  EXPECT_THROW(build_inception_v3(74, 3), UserError);
  EXPECT_THROW(build_inception_v3(299, 0), UserError);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    for (int in : g.nodes[i].inputs) EXPECT_LT(in, static_cast<int>(i)) << g.nodes[i].name;
  }
}

TEST(Network, ByName) {
  EXPECT_EQ(build_network("inception_v3", 299, 1000).parameter_count(), 23'834'568);
  EXPECT_EQ(build_network("inception_v4", 299, 1000).parameter_count(), 42'679'816);
  try {
    build_network("inception_v5", 299, 1000);
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    EXPECT_STREQ(e.what(), "--arch: expected inception_v4 or inception_v3, got 'inception_v5'");
  }
}

}  // namespace
}  // namespace thaw
