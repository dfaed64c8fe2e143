// --select and --patience through the command. With 2 held-out samples accuracy can improve on its
// first value at most twice, so --patience 1 must stop a 6-epoch run by its fourth epoch: the run
// ends early, best.safetensors is the first epoch of the highest accuracy in metrics.jsonl, the record
// says so, replay checks the best epoch's state as well as every step, and --mlflow and --tensorboard
// have the run.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/safetensors.h"
#include "tests/cli/cli_harness.h"
#include "tests/cli/idx_fixture.h"
#include "tests/support/tfevents_reader.h"

namespace thaw::testing {
namespace {

using ::testing::HasSubstr;

std::vector<double> epoch_accuracies(const std::filesystem::path& metrics) {
  std::vector<double> out;
  std::ifstream in(metrics);
  for (std::string line; std::getline(in, line);) {
    const nlohmann::json j = nlohmann::json::parse(line);
    if (j.contains("epoch_end")) out.push_back(j["val_accuracy"].get<double>());
  }
  return out;
}

TEST(BestEpochCli, PatienceStopsTheRunAndBestWeightsAreTheBestEpochs) {
  if (!thaw_binary_exists()) GTEST_SKIP() << "thaw binary not built: " << THAW_BINARY;
  ScratchDir dir;
  write_idx_folder(dir.path() / "idx");
  const std::string train = sh_quote(THAW_BINARY) + " train --data " + sh_quote(dir / "idx") +
                            " --input-size 75 --freeze-through mixed_7c --train-limit 4 --val-limit 2 --batch-size 2"
                            " --epochs 6 --lr 0.05 --seed 3 --threads 2 --workers 1 --select accuracy --patience 1"
                            " --mlflow " + sh_quote(dir / "mlruns") + " --tensorboard " + sh_quote(dir / "tb") +
                            " --out " + sh_quote(dir / "run");
  const CommandResult r = run_command(train, dir);
  ASSERT_EQ(r.exit_code, 0) << describe(train, r);
  const std::vector<double> acc = epoch_accuracies(dir.path() / "run/metrics.jsonl");
  ASSERT_GE(acc.size(), 2u);
  ASSERT_LE(acc.size(), 4u) << "--patience 1 must stop a run whose accuracy cannot keep improving";
  EXPECT_THAT(r.err, HasSubstr("early stop after epoch " + std::to_string(acc.size()) + ": accuracy has not improved for 1 epochs"));
  size_t best = 0;
  for (size_t i = 1; i < acc.size(); ++i) best = acc[i] > acc[best] ? i : best;

  const nlohmann::json rec = read_json(dir.path() / "run/record.json");
  EXPECT_EQ(rec["result"]["stopped_early"], true);
  EXPECT_EQ(rec["result"]["steps"], static_cast<int64_t>(acc.size()) * 2);
  EXPECT_EQ(rec["config"]["select"], "accuracy");
  EXPECT_EQ(rec["best"]["epoch"], static_cast<int64_t>(best) + 1);
  EXPECT_EQ(rec["best"]["value"].get<double>(), acc[best]);
  const SafeTensorsFile f = SafeTensorsFile::read(dir.path() / "run/best.safetensors");
  EXPECT_EQ(f.metadata().at("thaw_best_epoch"), std::to_string(best + 1));
  EXPECT_EQ(f.metadata().at("thaw_select"), "accuracy");
  EXPECT_EQ(f.metadata().at("thaw_state_sha256"), rec["best"]["state_sha256"]);
  EXPECT_THAT(r.out, HasSubstr("best epoch " + std::to_string(best + 1) + " by accuracy"));

  // The same run in the MLflow store: its params and one val_accuracy line per epoch.
  std::filesystem::path mlrun;
  for (const auto& e : std::filesystem::directory_iterator(dir.path() / "mlruns" / "0")) {
    if (e.is_directory()) mlrun = e.path();
  }
  ASSERT_FALSE(mlrun.empty());
  EXPECT_EQ(read_text(mlrun / "params" / "select"), "accuracy");
  const std::string lines = read_text(mlrun / "metrics" / "val_accuracy");
  EXPECT_EQ(static_cast<size_t>(std::count(lines.begin(), lines.end(), '\n')), acc.size());
  EXPECT_TRUE(std::filesystem::exists(mlrun / "artifacts" / "record.json"));

  // And as a TensorBoard event file: a loss per step, the held-out accuracy per epoch.
  std::filesystem::path event_file;
  for (const auto& e : std::filesystem::directory_iterator(dir.path() / "tb" / rec["run_id"].get<std::string>())) {
    event_file = e.path();
  }
  ASSERT_FALSE(event_file.empty());
  EXPECT_THAT(event_file.filename().string(), ::testing::StartsWith("events.out.tfevents."));
  size_t losses = 0, accuracies = 0;
  for (const testkit::TfEvent& e : testkit::read_tfevents(read_text(event_file))) {
    for (const auto& [tag, v] : e.values) {
      losses += tag == "train/loss";
      if (tag == "val/accuracy") EXPECT_FLOAT_EQ(v, static_cast<float>(acc[accuracies++]));
    }
  }
  EXPECT_EQ(losses, acc.size() * 2);
  EXPECT_EQ(accuracies, acc.size());

  const std::string replay = sh_quote(THAW_BINARY) + " replay " + sh_quote(dir / "run");
  const CommandResult rp = run_command(replay, dir);
  EXPECT_EQ(rp.exit_code, 0) << describe(replay, rp);
  EXPECT_THAT(rp.out, HasSubstr("best epoch " + std::to_string(best + 1) + ": the state matches best.safetensors'"));
  EXPECT_THAT(rp.out, HasSubstr("identical"));
}

TEST(BestEpochCli, BadSelectionFlagsAreOneLineBeforeAnyWork) {
  if (!thaw_binary_exists()) GTEST_SKIP() << "thaw binary not built: " << THAW_BINARY;
  ScratchDir dir;
  write_idx_folder(dir.path() / "idx");
  const std::string train = sh_quote(THAW_BINARY) + " train --data " + sh_quote(dir / "idx") +
                            " --input-size 75 --train-limit 4 --batch-size 2 --out " + sh_quote(dir / "run");
  expect_refusal(run_command(train + " --patience 2", dir), "--patience without --select",
                 {"--patience: stops when the metric of --select has not improved; give --select too"});
  expect_refusal(run_command(train + " --select top1", dir), "--select top1",
                 {"--select: expected val_loss, accuracy, balanced_accuracy or auc, got 'top1'"});
}

}  // namespace
}  // namespace thaw::testing
