// metrics.jsonl (engine/train/metrics_log.h): the lines the training loop writes, and the epochs a
// resumed run reads back from them.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "engine/train/metrics_log.h"
#include "io/file_bytes.h"
#include "tests/support/temp_dir.h"

namespace thaw {
namespace {

TEST(MetricsLog, StepLinesCarryTheLossBitsAndEpochLinesReadBack) {
  testkit::TempDir dir;
  {
    MetricsLog log(dir.path(), false);
    log.step(0, 0, 0.01, 0.1 + 0.2);
    log.epoch_end({0, 1, 0.5, 2.0, 16.0, 0.25, 0.75, 0.125});
    log.step(1, 1, 0.005, 1.0);
    log.epoch_end({1, 2, 0.25, 2.5, 12.8, 0.2, 0.8, 0.1});
  }
  const std::string text = read_file_bytes(dir.path() / "metrics.jsonl");
  const nlohmann::json first = nlohmann::json::parse(text.substr(0, text.find('\n')));
  EXPECT_EQ(first["loss_bits"], "3fd3333333333334");  // 0.1 + 0.2
  EXPECT_EQ(first.begin().key(), "epoch");            // keys sorted, as they always were

  const std::vector<EpochResult> before = read_epochs_before(dir.path(), 1);
  ASSERT_EQ(before.size(), 1u);
  EXPECT_EQ(before[0].epoch, 0);
  EXPECT_EQ(before[0].train_loss, 0.5);
  EXPECT_EQ(before[0].images_per_s, 16.0);
  EXPECT_EQ(before[0].val_accuracy, 0.75);
  EXPECT_EQ(read_epochs_before(dir.path(), 5).size(), 2u);
}

TEST(MetricsLog, AResumedRunAppendsAndATornTailIsPassedOver) {
  testkit::TempDir dir;
  { MetricsLog(dir.path(), false).epoch_end({0, 1, 0.5, 2.0, 16.0, 0.25, 0.75, 0.125}); }
  {
    MetricsLog log(dir.path(), true);
    log.step(1, 1, 0.01, 0.5);
  }
  {
    std::FILE* f = std::fopen((dir.path() / "metrics.jsonl").c_str(), "a");
    std::fputs("{\"epoch_end\": 1, \"train_lo", f);  // a run killed mid-line
    std::fclose(f);
  }
  const std::vector<EpochResult> before = read_epochs_before(dir.path(), 9);
  ASSERT_EQ(before.size(), 1u);
  EXPECT_EQ(before[0].epoch, 0);
}

}  // namespace
}  // namespace thaw
