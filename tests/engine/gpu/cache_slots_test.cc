// The GPU feature cache's row assignment: first seen, first served, up to the capacity; a sample
// that found the store full stays out, and a batch reads back only when every sample is held.
#include "engine/gpu/cache_slots.h"

#include <vector>

#include <gtest/gtest.h>

namespace thaw {
namespace {

TEST(CacheSlots, RowsInFirstSeenOrderUpToTheCapacity) {
  CacheSlots slots(3);
  EXPECT_EQ(slots.admit(40), 0);
  EXPECT_EQ(slots.admit(7), 1);
  EXPECT_EQ(slots.admit(40), 0);  // held already: the same row
  EXPECT_EQ(slots.admit(9), 2);
  EXPECT_EQ(slots.admit(11), -1);  // full
  EXPECT_EQ(slots.slot(11), -1);
  EXPECT_EQ(slots.slot(9), 2);
  EXPECT_EQ(slots.used(), 3);
  EXPECT_EQ(slots.admit(7), 1);  // a held sample still finds its row when the store is full
}

TEST(CacheSlots, ABatchReadsBackOnlyWhenEverySampleIsHeld) {
  CacheSlots slots(4);
  for (int64_t s : {5, 6, 7}) slots.admit(s);
  EXPECT_TRUE(slots.holds_all(std::vector<int64_t>{7, 5, 5}));
  EXPECT_FALSE(slots.holds_all(std::vector<int64_t>{7, 8}));
  EXPECT_FALSE(slots.holds_all(std::vector<int64_t>{}));
  EXPECT_EQ(CacheSlots(-1).capacity(), 0);
  CacheSlots none(0);
  EXPECT_EQ(none.admit(1), -1);
}

}  // namespace
}  // namespace thaw
