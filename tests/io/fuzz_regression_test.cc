// The inputs kept for the readers' fuzz targets (fuzz/fuzz_entries.h), replayed in every test run.
#include <gtest/gtest.h>

#include "fuzz/fuzz_entries.h"
#include "tests/support/fuzz_replay.h"

namespace thaw {
namespace {

using testkit::replay_fuzz_inputs;

TEST(FuzzRegression, SafetensorsInputs) { EXPECT_GE(replay_fuzz_inputs("safetensors", fuzz::safetensors), 5u); }
TEST(FuzzRegression, CsvInputs) { EXPECT_GE(replay_fuzz_inputs("csv", fuzz::csv), 4u); }
TEST(FuzzRegression, ImageInputs) { EXPECT_GE(replay_fuzz_inputs("image", fuzz::image), 9u); }
TEST(FuzzRegression, NpyInputs) { EXPECT_GE(replay_fuzz_inputs("npy", fuzz::npy), 4u); }
TEST(FuzzRegression, ExifInputs) { EXPECT_GE(replay_fuzz_inputs("exif", fuzz::exif), 7u); }
TEST(FuzzRegression, IdxInputs) { EXPECT_GE(replay_fuzz_inputs("idx", fuzz::idx), 6u); }
TEST(FuzzRegression, PackManifestInputs) { EXPECT_GE(replay_fuzz_inputs("pack", fuzz::pack), 11u); }

}  // namespace
}  // namespace thaw
