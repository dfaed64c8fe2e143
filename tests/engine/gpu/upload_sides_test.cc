// BatchUploads' choice of sides (engine/gpu/upload_sides.h) under the training loop's calls: each
// step reads the batch it was given, a staged copy never lands on the side the running step
// reads, and a step that copies its own batch never takes the side a staged copy is writing.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>

#include "core/error.h"
#include "core/philox.h"
#include "engine/gpu/upload_sides.h"

namespace thaw {
namespace {

// Epochs of `steps` steps as trainer.cc runs them: an epoch's first batch is copied at its step,
// every later one staged during the step before; a step whose samples the cache holds reads no
// side (discard). `unwanted`: sometimes a batch is staged and then not taken as staged.
void run_loop(uint64_t seed, int epochs, int steps, bool unwanted) {
  UploadSides sides;
  std::array<int64_t, 2> content = {-1, -1};  // the batch each side's device buffer holds
  const CounterRng rng(seed, RngPurpose::Synthetic, 0, 0);
  int64_t batch = 0;
  uint64_t draw = 0;
  bool next_staged = false;
  for (int e = 0; e < epochs; ++e) {
    for (int s = 0; s < steps; ++s, ++batch) {
      const bool cached = (rng.u32_at(draw++) % 4) == 0;
      const bool drop = unwanted && next_staged && (rng.u32_at(draw++) % 3) == 0;
      int reading = -1;  // the side this step reads
      if (cached) {
        sides.discard();
      } else if (next_staged && !drop) {
        reading = sides.take(true);
        ASSERT_EQ(content[static_cast<size_t>(reading)], batch) << "step " << batch << " read another batch";
      } else {
        const int pending = sides.staged();
        reading = sides.take(false);
        ASSERT_NE(reading, pending) << "step " << batch << " copied onto a side a staged copy writes";
        content[static_cast<size_t>(reading)] = batch;
      }
      next_staged = s + 1 < steps;  // the loop stages during this step
      if (next_staged) {
        const int k = sides.stage();
        ASSERT_NE(k, reading) << "the batch after step " << batch << " was staged onto the side it reads";
        content[static_cast<size_t>(k)] = batch + 1;
      }
    }
    next_staged = false;  // an epoch's last step stages nothing
  }
}

TEST(UploadSides, EachStepReadsItsOwnBatchAndNoCopyLandsOnASideInUse) {
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    run_loop(seed, 3, 7, false);
    run_loop(seed, 2, 5, true);
  }
}

TEST(UploadSides, ABatchMarkedStagedThatWasNotIsRefused) {
  UploadSides sides;
  EXPECT_THROW(sides.take(true), InternalError);
  sides.stage();
  sides.discard();
  EXPECT_THROW(sides.take(true), InternalError);
  EXPECT_EQ(sides.stage(), 1);  // away from side 0, which the last step read
  EXPECT_EQ(sides.take(true), 1);
  EXPECT_EQ(sides.stage(), 0);
}

}  // namespace
}  // namespace thaw
