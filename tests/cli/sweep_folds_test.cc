// `thaw sweep --folds K` end to end on a small folder of real images: every arm runs once per fold
// with that fold as its test split, the folds' test sets are disjoint and cover every image, the
// pooled evaluation holds each image exactly once, the across-fold mean is the mean of the folds,
// and a fold's arm replays from its folder. Then the mistakes: one line, exit 2, no sweep folder.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "io/csv.h"
#include "tests/cli/cli_harness.h"
#include "tests/cli/idx_fixture.h"

namespace thaw::testing {
namespace {

using ::testing::HasSubstr;

// 2 classes x 6 small JPEGs.
constexpr const char* kImages = R"PY(
import os, sys
import numpy as np
from PIL import Image
rng = np.random.default_rng(5)
root = sys.argv[1]
for c in ("a", "b"):
    os.makedirs(os.path.join(root, "data", c))
    for i in range(6):
        px = rng.integers(0, 256, size=(64, 64, 3), dtype=np.uint8)
        px[..., 0] = 40 if c == "a" else 200
        Image.fromarray(px).save(os.path.join(root, "data", c, "%d.jpg" % i))
)PY";

std::vector<std::string> paths_of(const std::filesystem::path& predictions) {
  const CsvTable t = read_csv(predictions);
  const int col = t.column("path");
  std::vector<std::string> out;
  for (const auto& r : t.rows) out.push_back(r[static_cast<size_t>(col)]);
  return out;
}

class SweepFolds : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!thaw_binary_exists()) GTEST_SKIP() << "thaw binary not built: " << THAW_BINARY;
    std::ofstream(dir_ / "make.py") << kImages;
    const std::string cmd = std::string(kPython) + " " + sh_quote(dir_ / "make.py") + " " + sh_quote(dir_.path().string());
    const CommandResult r = run_command(cmd, dir_);
    if (r.exit_code != 0) GTEST_SKIP() << "Debian's python3 with numpy and PIL is needed: " << r.err;
  }
  std::string sweep(const std::string& out, const std::string& extra) const {
    return "OMP_WAIT_POLICY=passive " + std::string(THAW_BINARY) + " sweep --data " + sh_quote(dir_ / "data") +
           " --out " + sh_quote(dir_ / out) + " --input-size 75 " + extra;
  }
  ScratchDir dir_;
};

TEST_F(SweepFolds, EveryImageTestedOncePerArmAndPooled) {
  const std::string cmd = sweep("sweep", "--folds 3 --val-fraction 0.25 --freeze-through mixed_7d,mixed_7c"
                                         " --bootstrap 20 --batch-size 2 --shards 1 --max-steps 2 --threads 2 --workers 1"
                                         " --plot-script /nonexistent");
  const CommandResult r = run_command(cmd, dir_);
  ASSERT_EQ(r.exit_code, 0) << describe(cmd, r);
  const std::filesystem::path out = dir_.path() / "sweep";
  const nlohmann::json doc = read_json(out / "sweep.json");
  EXPECT_EQ(doc["folds"], 3);
  EXPECT_THAT(doc["best_by"].get<std::string>(), HasSubstr("mean validation accuracy over the folds"));
  ASSERT_EQ(doc["arms"].size(), 2u);
  std::set<std::string> all_images;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir_.path() / "data")) {
    if (e.is_regular_file()) all_images.insert(e.path().string());
  }
  ASSERT_EQ(all_images.size(), 12u);
  for (const nlohmann::json& arm : doc["arms"]) {
    const std::string name = arm["freeze_through"];
    ASSERT_EQ(arm["status"], "complete") << arm.dump(2);
    // The folds' test sets: disjoint, together every image; each fold's run recorded its fold.
    std::map<std::string, int> tested;
    double sum = 0;
    for (int f = 0; f < 3; ++f) {
      const std::filesystem::path run = out / ("fold-" + std::to_string(f)) / "arms" / name;
      const nlohmann::json config = read_json(run / "record.json")["config"];
      EXPECT_EQ(config["folds"], 3);
      EXPECT_EQ(config["fold"], f);
      for (const std::string& p : paths_of(run / "predictions-test.csv")) ++tested[p];
      sum += arm["by_fold"][static_cast<size_t>(f)]["test_accuracy"].get<double>();
    }
    ASSERT_EQ(tested.size(), 12u) << name;
    for (const auto& [p, n] : tested) {
      EXPECT_EQ(n, 1) << p << " tested " << n << " times by " << name;
      EXPECT_TRUE(all_images.count(p)) << p;
    }
    // The pooled file holds each image once, and its evaluation counts them all.
    const std::vector<std::string> pooled = paths_of(out / "arms" / name / "predictions-test.csv");
    EXPECT_EQ(std::set<std::string>(pooled.begin(), pooled.end()), all_images);
    EXPECT_EQ(pooled.size(), 12u);
    EXPECT_EQ(arm["test"]["samples"], 12);
    EXPECT_NEAR(arm["across_folds"]["accuracy"]["estimate"].get<double>(), sum / 3, 1e-12);
    EXPECT_LE(arm["across_folds"]["accuracy"]["lo"].get<double>(), arm["across_folds"]["accuracy"]["hi"].get<double>());
  }
  const nlohmann::json& other = doc["arms"][doc["best_arm"] == "mixed_7d" ? 1 : 0];
  EXPECT_TRUE(other["vs_best"].contains("mcnemar_p"));
  EXPECT_TRUE(other["vs_best"].contains("corrected_t_p"));
  EXPECT_THAT(read_text(out / "report.html"), HasSubstr("Test accuracy by fold"));
  EXPECT_THAT(read_text(out / "report.md"), HasSubstr("3-fold cross-validation"));
  const std::string folds_csv = read_text(out / "sweep_folds.csv");
  EXPECT_EQ(std::count(folds_csv.begin(), folds_csv.end(), '\n'), 1 + 2 * 3);

  const std::string replay = std::string(THAW_BINARY) + " replay " + sh_quote(out / "fold-2" / "arms" / "mixed_7c");
  const CommandResult rp = run_command(replay, dir_);
  EXPECT_EQ(rp.exit_code, 0) << describe(replay, rp);
  EXPECT_THAT(rp.out, HasSubstr("identical"));
}

TEST_F(SweepFolds, WhatTheFoldsCannotTakeIsOneLineBeforeAnyWork) {
  const struct {
    std::string args, expect;
  } cases[] = {
      {"--folds 7 --val-fraction 0.2",
       "--folds 7: class 'a' of " + (dir_.path() / "data").string() + " is in 6 image(s), fewer than the folds, so "
       "some fold would test none of it; give --folds 6 or fewer"},
      {"--folds 3", "--folds: give --val-fraction F"},
      {"--folds 3 --val-fraction 0.2 --test-fraction 0.2", "--folds and --test-fraction: with folds, each fold in turn "
                                                           "is the test split; drop --test-fraction"},
      {"--folds 3 --val-fraction 0.2 --fold 1", "--fold: the sweep runs every fold of --folds K; drop --fold"},
  };
  for (const auto& c : cases) {
    const std::string cmd = sweep("bad", "--freeze-through mixed_7d " + c.args);
    const CommandResult r = run_command(cmd, dir_);
    EXPECT_EQ(r.exit_code, 2) << describe(cmd, r);
    EXPECT_THAT(r.err, HasSubstr("thaw: error: " + c.expect)) << describe(cmd, r);
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << describe(cmd, r);
    EXPECT_FALSE(std::filesystem::exists(dir_.path() / "bad")) << describe(cmd, r);
  }
  // thaw train: --folds needs --fold, and the other way round.
  const std::string train = std::string(THAW_BINARY) + " train --data " + sh_quote(dir_ / "data") +
                            " --val-fraction 0.2 --input-size 75 --out " + sh_quote(dir_ / "run") + " --folds 3";
  CommandResult r = run_command(train, dir_);
  EXPECT_EQ(r.exit_code, 2) << describe(train, r);
  EXPECT_THAT(r.err, HasSubstr("--folds 3: give --fold I (0 to 2), the fold this run tests on"));
  r = run_command(train + " --fold 3", dir_);
  EXPECT_EQ(r.exit_code, 2) << describe(train, r);
  EXPECT_THAT(r.err, HasSubstr("--fold"));
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "run"));
}

}  // namespace
}  // namespace thaw::testing
