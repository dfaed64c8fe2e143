// The inputs kept for the run record's fuzz targets (fuzz/record_entries.h), replayed in every test run.
#include <gtest/gtest.h>

#include "fuzz/record_entries.h"
#include "tests/support/fuzz_replay.h"

namespace thaw {
namespace {

using testkit::replay_fuzz_inputs;

TEST(FuzzRegression, RecordInputs) { EXPECT_GE(replay_fuzz_inputs("record", fuzz::record), 10u); }
TEST(FuzzRegression, StepsInputs) { EXPECT_GE(replay_fuzz_inputs("steps", fuzz::steps), 8u); }

}  // namespace
}  // namespace thaw
