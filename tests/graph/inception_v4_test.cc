#include "graph/inception_v4.h"

#include <gtest/gtest.h>

#include <set>

#include "core/error.h"

namespace thaw {
namespace {

// Totals and per-block figures from timm's inception_v4 (shared/reference/inception_v4_blocks.md).
TEST(InceptionV4, TotalsMatchTimm) {
  const Graph g = build_inception_v4(299, 1000);
  EXPECT_EQ(g.parameter_count(), 42'679'816);
  EXPECT_EQ(g.macs(), 12'253'974'624);
}

TEST(InceptionV4, PerBlockParamsMacsAndShapes) {
  struct Row { const char* name; int64_t params, macs, c, h; };
  const Row rows[] = {
      {"conv2d_1a", 928, 19'181'664, 32, 149},       {"conv2d_2a", 9'280, 199'148'544, 32, 147},
      {"conv2d_2b", 18'560, 398'297'088, 64, 147},   {"mixed_3a", 55'488, 294'672'384, 160, 73},
      {"mixed_4a", 189'312, 972'218'368, 192, 71},   {"mixed_5a", 332'160, 406'425'600, 384, 35},
      {"mixed_5b", 317'632, 387'609'600, 384, 35},   {"mixed_5e", 317'632, 387'609'600, 384, 35},
      {"mixed_6a", 2'306'112, 1'097'164'800, 1024, 17}, {"mixed_6b", 2'936'256, 847'264'768, 1024, 17},
      {"mixed_6h", 2'936'256, 847'264'768, 1024, 17}, {"mixed_7a", 2'747'392, 511'098'880, 1536, 8},
      {"mixed_7b", 4'553'088, 290'979'840, 1536, 8},  {"mixed_7d", 4'553'088, 290'979'840, 1536, 8},
  };
  const Graph g = build_inception_v4(299, 1000);
  for (const Row& r : rows) {
    SCOPED_TRACE(r.name);
    const int b = g.find_block(r.name);
    EXPECT_EQ(g.block_parameter_count(b), r.params);
    EXPECT_EQ(g.block_macs(b), r.macs);
    const Shape& out = g.nodes[g.blocks[b].last_node].out;
    EXPECT_EQ(out, (Shape{r.c, r.h, r.h}));
  }
  EXPECT_EQ(g.block_parameter_count(g.find_block("head")), 1536 * 1000 + 1000);
}

TEST(InceptionV4, BlocksAndAliases) {
  const Graph g = build_inception_v4(299, 10);
  ASSERT_EQ(g.blocks.size(), 23u);
  EXPECT_EQ(g.blocks[0].name, "conv2d_1a");
  EXPECT_EQ(g.blocks[21].name, "mixed_7d");
  EXPECT_EQ(g.blocks[22].name, "head");
  EXPECT_EQ(g.find_block("features.9"), g.find_block("mixed_5e"));
  EXPECT_EQ(g.find_block("features.17"), g.find_block("mixed_6h"));
  EXPECT_EQ(g.find_block("none"), -1);
  try {
    g.find_block("mixed_9z");
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("mixed_9z"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("mixed_6h"), std::string::npos);
  }
  // Blocks tile the node list without gaps.
  for (size_t i = 1; i < g.blocks.size(); ++i) EXPECT_EQ(g.blocks[i].first_node, g.blocks[i - 1].last_node + 1);
  EXPECT_EQ(g.blocks.back().last_node, g.output_node());
}

TEST(InceptionV4, TimmStateDictKeys) {
  const Graph g = build_inception_v4(299, 1000);
  std::set<std::string> names;
  for (const auto& t : g.tensors) EXPECT_TRUE(names.insert(t.name).second) << "duplicate " << t.name;
  // 149 ConvNormAct modules, each with 6 state_dict entries, plus last_linear's two.
  EXPECT_EQ(g.tensors.size(), 149u * 6 + 2);
  for (const char* key : {"features.0.conv.weight", "features.0.bn.running_var", "features.3.conv.conv.weight",
                          "features.5.conv.bn.num_batches_tracked", "features.6.branch3.1.conv.weight",
                          "features.10.branch1.2.bn.bias", "features.17.branch2.4.conv.weight",
                          "features.18.branch0.1.conv.weight", "features.21.branch2_3b.bn.running_mean",
                          "last_linear.weight", "last_linear.bias"}) {
    EXPECT_GE(g.find_tensor(key), 0) << key;
  }
  EXPECT_EQ(g.tensors[g.find_tensor("features.17.branch2.4.conv.weight")].shape, (Shape{256, 224, 1, 7}));
  EXPECT_EQ(g.tensors[g.find_tensor("features.19.branch2_1.conv.weight")].shape, (Shape{448, 384, 3, 1}));
  EXPECT_EQ(g.tensors[g.find_tensor("last_linear.weight")].shape, (Shape{1000, 1536}));
  EXPECT_EQ(g.tensors[g.find_tensor("features.0.bn.num_batches_tracked")].shape, Shape{});
}

TEST(InceptionV4, TopologicalOrder) {
  const Graph g = build_inception_v4(107, 5);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    for (int in : g.nodes[i].inputs) EXPECT_LT(in, static_cast<int>(i)) << g.nodes[i].name;
  }
}

TEST(InceptionV4, SmallestInputAndErrors) {
  const Graph g = build_inception_v4(75, 3);
  EXPECT_EQ(g.nodes[g.blocks[21].last_node].out, (Shape{1536, 1, 1}));
  // Parameters do not depend on the input size; MACs do.
  EXPECT_EQ(g.parameter_count(), build_inception_v4(299, 3).parameter_count());
  EXPECT_LT(g.macs(), build_inception_v4(299, 3).macs());
  EXPECT_THROW(build_inception_v4(74, 3), UserError);
  EXPECT_THROW(build_inception_v4(299, 0), UserError);
}

}  // namespace
}  // namespace thaw
