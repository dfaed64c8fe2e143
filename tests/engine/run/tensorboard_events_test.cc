// A run folder written as a TensorBoard event file and read back with the test reader
// (tests/support/tfevents_reader.h): the file-version event first, the per-step scalars, the
// epoch's figures at the step that ended it, wall times from the record, resumed steps once.
#include "engine/run/tensorboard_events.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "io/file_bytes.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tfevents_reader.h"
#include "tests/support/user_error.h"

namespace thaw {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

float value(const testkit::TfEvent& e, const std::string& tag) {
  for (const auto& [t, v] : e.values) {
    if (t == tag) return v;
  }
  ADD_FAILURE() << "no " << tag << " at step " << e.step;
  return -1;
}

TEST(TensorboardEvents, ARunFolderBecomesAnEventFile) {
  testkit::TempDir tmp("thaw-tensorboard");
  const fs::path run = tmp.path() / "run";
  fs::create_directories(run);
  write(run / "record.json", R"({"format": "thaw-record", "version": 1, "run_id": "abc-20261206T021513Z",
    "created_utc": "20261206T021513Z", "status": "complete", "config": {"lr": 0.5}})");
  // Two epochs of two steps; step 2 written twice (a resume went back to it): the later line counts.
  // Step 1's loss was a NaN (null); epoch 0's AUC was not computed (-1).
  write(run / "metrics.jsonl",
        "{\"epoch\":0,\"loss\":2.5,\"lr\":0.5,\"step\":0}\n{\"epoch\":0,\"loss\":null,\"lr\":0.25,\"step\":1}\n"
        "{\"epoch_end\":0,\"train_loss\":2.0,\"val_loss\":1.5,\"val_accuracy\":0.75,\"val_auc\":-1,\"seconds\":10}\n"
        "{\"epoch\":1,\"loss\":9.0,\"lr\":0.1,\"step\":2}\n"
        "{\"epoch\":1,\"loss\":1.25,\"lr\":0.125,\"step\":2}\n{\"epoch\":1,\"loss\":1.0,\"lr\":0.0625,\"step\":3}\n"
        "{\"epoch_end\":1,\"train_loss\":1.125,\"val_loss\":1.0,\"val_accuracy\":0.875,\"val_auc\":0.9,\"seconds\":4}\n"
        "{\"step\":");
  const fs::path logs = tmp.path() / "tb";
  const fs::path file = write_tensorboard_run(logs, run);
  EXPECT_EQ(file, logs / "abc-20261206T021513Z" / "events.out.tfevents.1796523313.thaw");
  const std::string bytes = read_file_or_empty(file);
  const auto events = testkit::read_tfevents(bytes);
  ASSERT_EQ(events.size(), 7u);  // version, 4 steps, 2 epochs
  EXPECT_EQ(events[0].file_version, "brain.Event:2");
  EXPECT_EQ(events[0].wall_time, 1796523313.0);  // 2026-12-06 02:15:13 UTC
  EXPECT_EQ(events[1].step, 0);
  EXPECT_EQ(value(events[1], "train/loss"), 2.5f);
  EXPECT_EQ(value(events[1], "train/lr"), 0.5f);
  EXPECT_EQ(events[1].wall_time, 1796523313.0 + 5);  // half of epoch 0's 10 s
  EXPECT_EQ(events[2].step, 1);
  ASSERT_EQ(events[2].values.size(), 1u);  // the NaN loss left out
  EXPECT_EQ(value(events[2], "train/lr"), 0.25f);
  EXPECT_EQ(events[3].step, 1);  // epoch 0's figures at its last step
  EXPECT_EQ(events[3].wall_time, 1796523313.0 + 10);
  EXPECT_EQ(value(events[3], "epoch/train_loss"), 2.0f);
  EXPECT_EQ(value(events[3], "val/loss"), 1.5f);
  EXPECT_EQ(value(events[3], "val/accuracy"), 0.75f);
  EXPECT_EQ(events[3].values.size(), 3u);  // no val/auc
  EXPECT_EQ(events[4].step, 2);
  EXPECT_EQ(value(events[4], "train/loss"), 1.25f);
  EXPECT_EQ(events[4].wall_time, 1796523313.0 + 12);
  EXPECT_EQ(events[5].step, 3);
  EXPECT_EQ(events[6].step, 3);
  EXPECT_EQ(value(events[6], "val/auc"), 0.9f);
  EXPECT_EQ(events[6].wall_time, 1796523313.0 + 14);
  // The same folder gives the same bytes, replacing the file.
  EXPECT_EQ(write_tensorboard_run(logs, run), file);
  EXPECT_EQ(read_file_or_empty(file), bytes);
}

TEST(TensorboardEvents, AnUnwritableLogFolderIsAUserError) {
  testkit::TempDir tmp("thaw-tensorboard");
  const fs::path run = tmp.path() / "run";
  fs::create_directories(run);
  write(run / "record.json", R"({"format": "thaw-record", "version": 1, "run_id": "r-1", "created_utc": "x"})");
  write(tmp.path() / "blocker", "a file, not a folder");
  testkit::expect_user_error_naming([&] { write_tensorboard_run(tmp.path() / "blocker", run); }, "--tensorboard");
}

}  // namespace
}  // namespace thaw
