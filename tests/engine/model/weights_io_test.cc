// Weights in and out: timm keys round-trip bit for bit, a new head is drawn from the seed, and
// every other mismatch is an error naming the key and both shapes.
#include "engine/model/weights_io.h"

#include <gtest/gtest.h>

#include "tests/support/same_bytes.h"

#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "graph/inception_v4.h"
#include "io/safetensors.h"

namespace thaw {
namespace {

std::filesystem::path temp_file(const std::string& name) {
  return std::filesystem::path(::testing::TempDir()) / name;
}

bool same(const Tensor<float>& a, const Tensor<float>& b) {
  return a.shape() == b.shape() && testkit::same_bytes(a.data(), b.data(), sizeof(float) * a.numel());
}

TEST(Checkpoint, RoundTripsEveryTensorBitForBit) {
  const Graph g = build_inception_v4(75, 5);
  ModelState<float> a = ModelState<float>::random(g, 1);
  a.batches_tracked[g.find_tensor("features.3.conv.bn.num_batches_tracked")] = 17;
  const auto path = temp_file("roundtrip.safetensors");
  save_weights(path, g, a);
  ModelState<float> b = ModelState<float>::zeros(g);
  const LoadReport rep = load_weights(path, g, b, 99);
  EXPECT_FALSE(rep.head_reinitialised);
  for (size_t t = 0; t < g.tensors.size(); ++t) {
    EXPECT_TRUE(same(a.values[t], b.values[t])) << g.tensors[t].name;
    EXPECT_EQ(a.batches_tracked[t], b.batches_tracked[t]) << g.tensors[t].name;
  }
  // timm's key order and dtypes, so load_state_dict(strict=True) accepts it.
  const SafeTensorsFile f = SafeTensorsFile::read(path);
  ASSERT_EQ(f.names().size(), g.tensors.size());
  EXPECT_EQ(f.names().front(), "features.0.conv.weight");
  EXPECT_EQ(f.info("features.0.bn.num_batches_tracked").dtype, DType::I64);
}

TEST(Checkpoint, ANewClassCountGetsASeededHead) {
  const Graph g5 = build_inception_v4(75, 5), g7 = build_inception_v4(75, 7);
  const ModelState<float> src = ModelState<float>::random(g5, 1);
  const auto path = temp_file("head5.safetensors");
  save_weights(path, g5, src);
  ModelState<float> dst = ModelState<float>::zeros(g7);
  const LoadReport rep = load_weights(path, g7, dst, 42);
  ASSERT_TRUE(rep.head_reinitialised);
  EXPECT_EQ(rep.file_classes, 5);
  EXPECT_NE(rep.note.find("re-initialised"), std::string::npos);
  const ModelState<float> fresh = ModelState<float>::random(g7, 42);
  for (size_t t = 0; t < g7.tensors.size(); ++t) {
    const std::string& name = g7.tensors[t].name;
    const bool head = name.rfind("last_linear.", 0) == 0;
    EXPECT_TRUE(same(dst.values[t], head ? fresh.values[t] : src.values[t])) << name;
  }
}

std::string load_error(const std::filesystem::path& p, const Graph& g) {
  ModelState<float> s = ModelState<float>::zeros(g);
  try {
    load_weights(p, g, s, 0);
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

TEST(Checkpoint, MismatchesNameTheKeyAndShapes) {
  const Graph g = build_inception_v4(75, 5);
  const ModelState<float> s = ModelState<float>::random(g, 1);
  // Mis-shaped tensor.
  {
    SafeTensorsWriter w;
    for (size_t t = 0; t < g.tensors.size(); ++t) {
      const TensorSpec& spec = g.tensors[t];
      if (spec.role == TensorRole::NumBatchesTracked) {
        w.add_int64_scalar(spec.name, 0);
      } else if (spec.name == "features.4.branch1.1.conv.weight") {
        Tensor<float> bad({64, 64, 7, 1});
        w.add(spec.name, bad);
      } else {
        w.add(spec.name, s.values[t]);
      }
    }
    w.write(temp_file("bad_shape.safetensors"));
    const std::string err = load_error(temp_file("bad_shape.safetensors"), g);
    EXPECT_NE(err.find("features.4.branch1.1.conv.weight"), std::string::npos) << err;
    EXPECT_NE(err.find("[64, 64, 7, 1]"), std::string::npos) << err;
    EXPECT_NE(err.find("[64, 64, 1, 7]"), std::string::npos) << err;
  }
  // Missing and extra tensors.
  {
    SafeTensorsWriter missing, extra;
    for (size_t t = 0; t < g.tensors.size(); ++t) {
      const TensorSpec& spec = g.tensors[t];
      if (spec.role == TensorRole::NumBatchesTracked) {
        missing.add_int64_scalar(spec.name, 0);
        extra.add_int64_scalar(spec.name, 0);
        continue;
      }
      if (spec.name != "features.7.branch0.bn.bias") missing.add(spec.name, s.values[t]);
      extra.add(spec.name, s.values[t]);
    }
    extra.add("aux_logits.fc.weight", Tensor<float>({3, 4}));
    missing.write(temp_file("missing.safetensors"));
    extra.write(temp_file("extra.safetensors"));
    const std::string e1 = load_error(temp_file("missing.safetensors"), g);
    EXPECT_NE(e1.find("missing tensor features.7.branch0.bn.bias"), std::string::npos) << e1;
    const std::string e2 = load_error(temp_file("extra.safetensors"), g);
    EXPECT_NE(e2.find("aux_logits.fc.weight"), std::string::npos) << e2;
    EXPECT_NE(e2.find("[3, 4]"), std::string::npos) << e2;
  }
}

}  // namespace
}  // namespace thaw
