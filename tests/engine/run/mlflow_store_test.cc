// The MLflow file store written from a run folder, read back file by file against the layout
// MLflow's FileStore uses (meta.yaml fields, one file per param, "<ms> <value> <step>" metric lines).
#include "engine/run/mlflow_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "core/sha256.h"
#include "io/file_bytes.h"
#include "tests/support/temp_dir.h"

namespace thaw {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

TEST(MlflowStore, ARunFolderBecomesAnMlflowRun) {
  testkit::TempDir tmp("thaw-mlflow");
  const fs::path run = tmp.path() / "run";
  fs::create_directories(run);
  write(run / "record.json", R"({"format": "thaw-record", "version": 1, "run_id": "abc-20261206T021513Z",
    "created_utc": "20261206T021513Z", "status": "complete", "command": "thaw train --lr 0.5 --data 'it''s'",
    "config": {"lr": 0.5, "data": "it's", "epochs": 2, "nesterov": false}})");
  write(run / "metrics.jsonl",
        "{\"epoch\":0,\"loss\":2.5,\"lr\":0.5,\"step\":0}\n{\"epoch\":0,\"loss\":null,\"lr\":0.25,\"step\":1}\n"
        "{\"epoch_end\":0,\"train_loss\":2.0,\"val_loss\":1.5,\"val_accuracy\":0.75,\"val_auc\":-1}\n{\"step\":");
  write(run / "summary.json", "{}");
  const fs::path store = tmp.path() / "mlruns";
  const fs::path dir = write_mlflow_run(store, run);
  EXPECT_EQ(dir, store / "0" / sha256_hex("abc-20261206T021513Z").substr(0, 32));
  const std::string exp = read_file_or_empty(store / "0" / "meta.yaml");
  EXPECT_THAT(exp, HasSubstr("experiment_id: '0'\n"));
  EXPECT_THAT(exp, HasSubstr("name: Default\n"));
  const std::string meta = read_file_or_empty(dir / "meta.yaml");
  const std::string id = dir.filename().string();
  EXPECT_THAT(meta, HasSubstr("run_id: " + id + "\n"));
  EXPECT_THAT(meta, HasSubstr("run_uuid: " + id + "\n"));
  EXPECT_THAT(meta, HasSubstr("start_time: 1796523313000\n"));  // 2026-12-06 02:15:13 UTC
  EXPECT_THAT(meta, HasSubstr("status: 3\n"));                  // FINISHED
  EXPECT_THAT(meta, HasSubstr("run_name: 'abc-20261206T021513Z'\n"));
  EXPECT_EQ(read_file_or_empty(dir / "params" / "lr"), "0.5");
  EXPECT_EQ(read_file_or_empty(dir / "params" / "data"), "it's");
  EXPECT_EQ(read_file_or_empty(dir / "params" / "nesterov"), "false");
  // The null loss (a NaN) is left out; the epoch's -1 (not computed) too.
  EXPECT_EQ(read_file_or_empty(dir / "metrics" / "loss"), "1796523313000 2.5 0\n");
  EXPECT_EQ(read_file_or_empty(dir / "metrics" / "lr"), "1796523313000 0.5 0\n1796523313000 0.25 1\n");
  EXPECT_EQ(read_file_or_empty(dir / "metrics" / "val_accuracy"), "1796523313000 0.75 0\n");
  EXPECT_FALSE(fs::exists(dir / "metrics" / "val_auc"));
  EXPECT_EQ(read_file_or_empty(dir / "tags" / "mlflow.runName"), "abc-20261206T021513Z");
  EXPECT_TRUE(fs::exists(dir / "artifacts" / "record.json"));
  EXPECT_TRUE(fs::exists(dir / "artifacts" / "summary.json"));
  // Written again (a second export): the same run, replaced.
  EXPECT_EQ(write_mlflow_run(store, run), dir);
  EXPECT_EQ(read_file_or_empty(dir / "metrics" / "loss"), "1796523313000 2.5 0\n");
}

}  // namespace
}  // namespace thaw
