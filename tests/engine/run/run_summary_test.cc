// summary.json (engine/run/run_summary.h): what run_training writes, the sweep reads back the same,
// and a file that is not one is a UserError naming it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "engine/run/run_summary.h"
#include "io/atomic_file.h"
#include "io/file_bytes.h"
#include "tests/support/temp_dir.h"
#include "tests/support/user_error.h"

namespace thaw {
namespace {

using ::testing::HasSubstr;

RunSummary sample() {
  RunSummary s;
  s.command = "thaw train --data d";
  s.data = "d";
  s.initial_weights = "seeded random initialisation (seed 3)";
  s.classes = 2;
  s.class_names = {"benign", "malignant"};
  s.input_size = 75;
  s.freeze_through = "mixed_6h";
  s.trainable_parameters = 1234;
  s.steps = 6;
  s.epochs = {{0, 3, 0.7, 1.25, 40.5, 0.6, 0.5, 0.1}, {1, 6, 0.1 + 0.2, 1.5, 33.0, 0.4, 0.75, 0.2}};
  return s;
}

TEST(RunSummary, ReadsBackWhatItWrote) {
  testkit::TempDir dir;
  write_run_summary(dir.path(), sample());
  const RunSummary r = read_run_summary(dir.path());
  EXPECT_EQ(r.command, "thaw train --data d");
  EXPECT_EQ(r.class_names, sample().class_names);
  EXPECT_EQ(r.freeze_through, "mixed_6h");
  EXPECT_EQ(r.trainable_parameters, 1234);
  EXPECT_EQ(r.steps, 6);
  ASSERT_EQ(r.epochs.size(), 2u);
  EXPECT_EQ(r.epochs[1].epoch, 1);
  EXPECT_EQ(r.epochs[1].train_loss, 0.1 + 0.2);  // doubles survive the text to the bit
  EXPECT_EQ(r.epochs[1].images_per_s, 33.0);
  EXPECT_EQ(r.epochs[0].val_accuracy, 0.5);
  // The file's shape: keys sorted, as summary.json always had them; per epoch six figures.
  const nlohmann::json j = nlohmann::json::parse(read_file_bytes(dir.path() / "summary.json"));
  EXPECT_EQ(j.begin().key(), "class_names");
  EXPECT_EQ(j["epochs"][0].size(), 6u);
}

TEST(RunSummary, AFileThatIsNotOneIsNamed) {
  testkit::TempDir dir;
  EXPECT_THAT(testkit::user_error_of([&] { read_run_summary(dir.path()); }), HasSubstr("summary.json"));
  write_file_atomic(dir.path() / "summary.json", "{\"steps\": 3}\n");
  EXPECT_THAT(testkit::user_error_of([&] { read_run_summary(dir.path()); }),
              HasSubstr("not a summary.json as thaw train writes it"));
  write_file_atomic(dir.path() / "summary.json", "{\"steps\": ");
  EXPECT_THAT(testkit::user_error_of([&] { read_run_summary(dir.path()); }), HasSubstr("not valid JSON"));
}

}  // namespace
}  // namespace thaw
