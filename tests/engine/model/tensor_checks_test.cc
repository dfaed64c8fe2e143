// A weights file's values are checked before a model uses them: a batch-norm counter of shape [0]
// or [2] (once an internal error, and silently taken), NaN or infinite weights (once accepted, and
// predict wrote "nan"), and class names in the metadata that are not a list of strings (once a
// silent fall-back to numbers) are each one line naming the file and the key.
#include "engine/model/tensor_checks.h"

#include <cmath>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

#include "engine/model/weights_io.h"
#include "graph/network.h"
#include "tests/support/temp_dir.h"
#include "tests/support/user_error.h"

namespace thaw {
namespace {

using testkit::user_error_of;

SafeTensorsFile counter_file(const Shape& shape, std::vector<int64_t> values) {
  SafeTensorsWriter w;
  w.add("bn.num_batches_tracked", DType::I64, shape, values.data());
  return SafeTensorsFile::parse(w.serialize(), "w.safetensors");
}

TEST(TensorChecks, ABatchNormCounterIsOneNonNegativeInteger) {
  EXPECT_EQ(read_batches_tracked(counter_file({}, {7}), "bn.num_batches_tracked"), 7);
  EXPECT_EQ(read_batches_tracked(counter_file({1}, {9}), "bn.num_batches_tracked"), 9);
  EXPECT_EQ(user_error_of([] { read_batches_tracked(counter_file({0}, {}), "bn.num_batches_tracked"); }),
            "w.safetensors: tensor bn.num_batches_tracked has shape [0], expected one counter (shape [] or [1])");
  EXPECT_EQ(user_error_of([] { read_batches_tracked(counter_file({2}, {1, 2}), "bn.num_batches_tracked"); }),
            "w.safetensors: tensor bn.num_batches_tracked has shape [2], expected one counter (shape [] or [1])");
  EXPECT_EQ(user_error_of([] { read_batches_tracked(counter_file({}, {-3}), "bn.num_batches_tracked"); }),
            "w.safetensors: tensor bn.num_batches_tracked is -3, expected a count (0 or more)");
}

TEST(TensorChecks, NanAndInfinityAreRefusedNamingTheIndex) {
  const std::vector<float> ok = {1.0f, -2.0f, 0.0f};
  check_finite<float>(ok, "w.safetensors", "fc.weight");
  const std::vector<double> nan = {1.0, std::nan("")};
  EXPECT_EQ(user_error_of([&] { check_finite<double>(nan, "w.safetensors", "fc.weight"); }),
            "w.safetensors: tensor fc.weight holds NaN at index 1; weights must be finite numbers");
  const std::vector<float> inf = {-std::numeric_limits<float>::infinity()};
  EXPECT_EQ(user_error_of([&] { check_finite<float>(inf, "w.safetensors", "fc.bias"); }),
            "w.safetensors: tensor fc.bias holds an infinite value at index 0; weights must be finite numbers");
}

TEST(TensorChecks, ClassNamesInTheMetadataAreAListOfStrings) {
  EXPECT_TRUE(metadata_class_names({}, "w").empty());
  EXPECT_EQ(metadata_class_names({{"thaw_class_names", R"(["a","b,c"])"}}, "w"),
            (std::vector<std::string>{"a", "b,c"}));
  for (const char* bad : {"[1,2]", "{\"a\":1}", "[]", "not json", "[\"a\",null]"}) {
    const std::string msg = user_error_of([&] { metadata_class_names({{"thaw_class_names", bad}}, "w.safetensors"); });
    EXPECT_TRUE(msg.starts_with("w.safetensors: metadata thaw_class_names is not a JSON list of class names: ")) << msg;
  }
}

// Through load_weights: a model whose file holds one NaN is refused naming that tensor.
TEST(TensorChecks, LoadWeightsRefusesANanWeight) {
  testkit::TempDir dir("thaw-checks");
  const Graph g = build_network("inception_v4", 75, 3);
  ModelState<float> state = ModelState<float>::random(g, 1);
  const int fc = g.find_tensor("last_linear.weight");
  ASSERT_GE(fc, 0);
  state.values[static_cast<size_t>(fc)][5] = std::nanf("");
  const auto path = dir.path() / "w.safetensors";
  save_weights(path, g, state);
  ModelState<float> loaded = ModelState<float>::zeros(g);
  EXPECT_EQ(user_error_of([&] { load_weights(path, g, loaded, 0); }),
            path.string() + ": tensor last_linear.weight holds NaN at index 5; weights must be finite numbers");
}

}  // namespace
}  // namespace thaw
