// A weights file decides the layer conventions of the graph built for it, and a file of one
// architecture given to another is one clear error.
#include "engine/model/weights_origin.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"
#include "engine/model/weights_io.h"
#include "graph/network.h"
#include "io/safetensors.h"

namespace thaw {
namespace {

std::filesystem::path temp_file(const std::string& name) {
  return std::filesystem::path(::testing::TempDir()) / name;
}

std::string user_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

int avg_pools_counting_pad(const Graph& g) {
  int n = 0;
  for (const Node& node : g.nodes) n += node.kind == OpKind::AvgPool && node.pool_count_pad;
  return n;
}

TEST(WeightsOrigin, KerasConventionsTravelWithTheFile) {
  const Graph keras = build_network("inception_v3", 75, 5, 0.0, {.avgpool_count_pad = false, .bn_eps = 1e-3});
  const auto path = temp_file("v3_keras.safetensors");
  save_weights(path, keras, ModelState<float>::zeros(keras));  // values do not matter here
  const SafeTensorsFile f = SafeTensorsFile::read(path);
  EXPECT_EQ(f.metadata().at("arch"), "inception_v3");
  EXPECT_EQ(f.metadata().at(kMetaAvgpoolCountPad), "false");
  EXPECT_EQ(f.metadata().at(kMetaBnEps), "0.001");

  const WeightsOrigin o = read_weights_origin(path, "inception_v4");
  EXPECT_EQ(o.arch, "inception_v3");
  EXPECT_FALSE(o.conventions.avgpool_count_pad);
  const Graph g = build_graph_for("inception_v3", 75, 5, 0.0, path.string());
  EXPECT_EQ(avg_pools_counting_pad(g), 0);
  // Without weights (or with timm's own) v3 counts padded cells in all nine pools.
  EXPECT_EQ(avg_pools_counting_pad(build_graph_for("inception_v3", 75, 5, 0.0, "")), 9);
}

TEST(WeightsOrigin, ArchitectureMismatchIsOneClearError) {
  const Graph v3 = build_network("inception_v3", 75, 5);
  const Graph v4 = build_network("inception_v4", 75, 5);
  const auto p3 = temp_file("v3.safetensors"), p4 = temp_file("v4.safetensors");
  save_weights(p3, v3, ModelState<float>::zeros(v3));
  save_weights(p4, v4, ModelState<float>::zeros(v4));
  EXPECT_EQ(user_error([&] { build_graph_for("inception_v4", 75, 5, 0.0, p3.string()); }),
            "--weights " + p3.string() + ": holds inception_v3 weights (its metadata says arch inception_v3) but "
            "--arch is inception_v4; give --arch inception_v3 or other weights");
  EXPECT_EQ(user_error([&] { build_graph_for("inception_v3", 75, 5, 0.0, p4.string()); }),
            "--weights " + p4.string() + ": holds inception_v4 weights (its metadata says arch inception_v4) but "
            "--arch is inception_v3; give --arch inception_v4 or other weights");
}

// A file saved by timm has no "arch": a tensor name only one architecture has tells.
TEST(WeightsOrigin, ArchitectureFromTensorNames) {
  const auto path = temp_file("timm_v3.safetensors");
  SafeTensorsWriter w;
  w.add("Conv2d_1a_3x3.conv.weight", Tensor<float>({32, 3, 3, 3}));
  w.write(path);
  const WeightsOrigin o = read_weights_origin(path, "inception_v4");
  EXPECT_EQ(o.arch, "inception_v3");
  EXPECT_TRUE(o.conventions.avgpool_count_pad);  // timm's v3
  const std::string e = user_error([&] { build_graph_for("inception_v4", 75, 5, 0.0, path.string()); });
  EXPECT_NE(e.find("it has the tensor Conv2d_1a_3x3.conv.weight"), std::string::npos) << e;
}

TEST(WeightsOrigin, MalformedConventionIsAUserError) {
  const auto path = temp_file("bad_meta.safetensors");
  SafeTensorsWriter w;
  w.add("x", Tensor<float>({1}));
  w.set_metadata(kMetaAvgpoolCountPad, "sometimes");
  w.write(path);
  EXPECT_EQ(user_error([&] { read_weights_origin(path, "inception_v3"); }),
            path.string() + ": metadata thaw_avgpool_count_pad is 'sometimes', expected true or false");
  SafeTensorsWriter w2;
  w2.add("x", Tensor<float>({1}));
  w2.set_metadata(kMetaBnEps, "-1");
  w2.write(path);
  EXPECT_EQ(user_error([&] { read_weights_origin(path, "inception_v3"); }),
            path.string() + ": metadata thaw_bn_eps is '-1', expected a positive number");
}

// v3's classifier is `fc`: a new class count re-draws it and keeps the rest.
TEST(WeightsOrigin, V3NewHeadIsFc) {
  const Graph g5 = build_network("inception_v3", 75, 5), g7 = build_network("inception_v3", 75, 7);
  const auto path = temp_file("v3_head5.safetensors");
  ModelState<float> src = ModelState<float>::zeros(g5);
  const int conv = g7.find_tensor("Mixed_7c.branch_pool.conv.weight");
  src.values[conv][5] = 0.25f;
  save_weights(path, g5, src);
  ModelState<float> dst = ModelState<float>::zeros(g7);
  const LoadReport rep = load_weights(path, g7, dst, 42);
  ASSERT_TRUE(rep.head_reinitialised);
  EXPECT_NE(rep.note.find("fc re-initialised from seed 42"), std::string::npos) << rep.note;
  const int fc = g7.find_tensor("fc.weight");
  EXPECT_EQ(dst.values[fc].shape(), (Shape{7, 2048}));
  EXPECT_NE(dst.values[fc][0], 0.0f);  // drawn from the seed, not the file's zeros
  EXPECT_EQ(dst.values[conv][5], 0.25f);
}

}  // namespace
}  // namespace thaw
