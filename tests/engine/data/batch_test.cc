// load_batch over an image folder: the batch's bits do not depend on the OpenMP thread count, a
// training batch differs from epoch to epoch, and a corrupt image in a batch is a UserError naming
// it (not a crash out of the parallel loop).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <omp.h>

#include "engine/data/batch.h"
#include "io/datasets.h"
#include "tests/io/io_test_support.h"

namespace thaw {
namespace {

using testing::run_python;
using testing::ScratchDir;
using testing::spit;
using testing::user_error_of;

constexpr const char* kFolder = R"PY(
import os
import numpy as np
from PIL import Image
rng = np.random.default_rng(5)
for c in ("a", "b"):
    os.makedirs("data/" + c)
    for i in range(4):
        w, h = 40 + 13 * i, 90 - 11 * i
        Image.fromarray(rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)).save("data/%s/%d.%s" % (c, i, "png" if i % 2 else "jpg"))
)PY";

TEST(LoadBatch, SameBitsForOneAndTwoThreadsAndPerEpochAugmentation) {
  THAW_REQUIRE_PYTHON("numpy, PIL");
  ScratchDir dir;
  ASSERT_EQ(run_python(dir, kFolder), 0);
  const auto data = open_dataset((dir / "data").string(), DataSplit::Train, {});
  const std::vector<int64_t> idx = {6, 1, 3, 0, 7, 2};
  const int saved = omp_get_max_threads();
  auto batch = [&](int threads, LoadMode mode) {
    omp_set_num_threads(threads);
    Tensor<float> x;
    std::vector<int32_t> labels;
    load_batch(*data, idx, 36, mode, x, labels);
    EXPECT_THAT(labels, ::testing::ElementsAre(1, 0, 0, 0, 1, 0));
    return std::vector<float>(x.data(), x.data() + x.numel());
  };
  for (const LoadMode mode : {LoadMode::eval(), LoadMode::training(3)}) {
    EXPECT_EQ(batch(1, mode), batch(2, mode)) << (mode.train ? "training" : "eval");
  }
  EXPECT_NE(batch(2, LoadMode::training(3)), batch(2, LoadMode::training(4)));
  EXPECT_EQ(batch(1, LoadMode::eval()), batch(2, LoadMode::eval()));
  omp_set_num_threads(saved);
}

TEST(LoadBatch, CorruptImageIsAUserErrorNamingIt) {
  THAW_REQUIRE_PYTHON("numpy, PIL");
  ScratchDir dir;
  ASSERT_EQ(run_python(dir, kFolder), 0);
  spit(dir / "data" / "b" / "2.jpg", "\xFF\xD8\xFF\xE0 not really");
  const auto data = open_dataset((dir / "data").string(), DataSplit::Train, {});
  Tensor<float> x;
  std::vector<int32_t> labels;
  EXPECT_THAT(user_error_of([&] { load_batch(*data, {0, 6, 1}, 36, LoadMode::eval(), x, labels); }),
              ::testing::HasSubstr("2.jpg: corrupt or unsupported JPEG"));
}

}  // namespace
}  // namespace thaw
