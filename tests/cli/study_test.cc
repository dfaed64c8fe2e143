// `thaw sweep` and `thaw eval` end to end on a few Fashion-MNIST images: an arm that cannot train
// is marked failed with its error while the other finishes; --resume keeps finished arms; the
// predictions files feed `thaw stats`; and the bad inputs of evaluations are one line, exit 2.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/sha256.h"
#include "tests/cli/cli_harness.h"

namespace thaw::testing {
namespace {

constexpr const char* kFashion = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";

nlohmann::json read_json(const std::filesystem::path& p) { return nlohmann::json::parse(read_text(p)); }

TEST(StudyCommands, SweepMarksAFailedArmAndEvalAndStatsAgree) {
  if (!thaw_binary_exists()) GTEST_SKIP() << "thaw binary not built: " << THAW_BINARY;
  if (!std::filesystem::exists(kFashion)) GTEST_SKIP() << "Debian's dataset-fashion-mnist is not installed";
  ScratchDir dir;
  const std::string thaw = THAW_BINARY;
  const std::string out = dir / "sweep";
  // Shards of one sample leave batch norm a single value per channel in mixed_7a..7d at 75x75:
  // the mixed_6h arm cannot train; the mixed_7d arm (no batch norm trains) can.
  const std::string sweep = thaw + " sweep --data fashion-mnist --input-size 75 --class-subset 5-6 --val-fraction 0.05"
                            " --freeze-through mixed_6h,mixed_7d --out " + sh_quote(out) +
                            " --test-limit 24 --bootstrap 50 --train-limit 8 --val-limit 8 --batch-size 8 --shards 8"
                            " --epochs 1 --keep-checkpoints 1";
  const CommandResult r = run_command(sweep, dir);
  ASSERT_EQ(r.exit_code, 0) << describe(sweep, r);
  const nlohmann::json s = read_json(std::filesystem::path(out) / "sweep.json");
  ASSERT_EQ(s["arms"].size(), 2u);
  EXPECT_EQ(s["arms"][0]["status"], "failed");
  EXPECT_NE(s["arms"][0]["error"].get<std::string>().find("--shards 8"), std::string::npos) << s.dump(2);
  EXPECT_EQ(s["arms"][1]["status"], "complete") << s.dump(2);
  EXPECT_EQ(s["best_arm"], "mixed_7d");
  EXPECT_EQ(s["arms"][1]["trainable_parameters"], 1536 * 2 + 2);
  EXPECT_EQ(s["arms"][1]["test"]["samples"], 24);
  EXPECT_GT(s["arms"][1]["peak_rss_bytes"].get<int64_t>(), 100 << 20);
  const std::string html = read_text(std::filesystem::path(out) / "report.html");
  EXPECT_NE(html.find("--shards 8"), std::string::npos);
  EXPECT_NE(r.out.find("mixed_6h: failed: thaw: error: --shards 8"), std::string::npos) << r.out;

  // The predictions file is what `thaw stats` reads: the same accuracy as the sweep's eval-test.json.
  const std::filesystem::path arm = std::filesystem::path(out) / "arms" / "mixed_7d";
  const std::string test_csv = read_text(arm / "predictions-test.csv");
  EXPECT_EQ(test_csv.rfind("path,hash,label,predicted,sandal,shirt\n", 0), 0u) << test_csv.substr(0, 200);
  EXPECT_EQ(count_lines(test_csv), 25u);
  const std::string stats = thaw + " stats " + sh_quote((arm / "predictions-test.csv").string()) + " --bootstrap 50 --out " +
                            sh_quote(dir / "stats.json");
  const CommandResult st = run_command(stats, dir);
  ASSERT_EQ(st.exit_code, 0) << describe(stats, st);
  EXPECT_EQ(read_json(dir / "stats.json")["accuracy"], read_json(arm / "eval-test.json")["accuracy"]);
  // Which weights were evaluated, byte for byte, and on what.
  const nlohmann::json ej = read_json(arm / "eval-test.json");
  EXPECT_EQ(ej["model_sha256"], sha256_file_hex(arm / "weights.safetensors"));
  EXPECT_TRUE(ej["environment"].contains("thaw")) << ej["environment"].dump().substr(0, 300);

  // thaw eval on the arm's run folder gives the same file; on the validation split another one.
  const std::string eval = thaw + " eval --run " + sh_quote(arm.string()) + " --limit 24 --bootstrap 50 --out-dir " +
                           sh_quote(dir / "e");
  const CommandResult ev = run_command(eval, dir);
  ASSERT_EQ(ev.exit_code, 0) << describe(eval, ev);
  EXPECT_EQ(read_text(dir.path() / "e" / "predictions-test.csv"), test_csv);
  EXPECT_NE(ev.out.find("accuracy"), std::string::npos);
  const std::string eval_val = thaw + " eval --run " + sh_quote(arm.string()) + " --split val --bootstrap 50 --out-dir " +
                               sh_quote(dir / "v");
  ASSERT_EQ(run_command(eval_val, dir).exit_code, 0);

  // McNemar between predictions of different test sets: the sample hashes differ.
  const std::string cmp = thaw + " stats " + sh_quote(dir / "e/predictions-test.csv") + " --compare " +
                          sh_quote(dir / "v/predictions-val.csv") + " --out " + sh_quote(dir / "cmp.json");
  const CommandResult c = run_command(cmp, dir);
  EXPECT_EQ(c.exit_code, 2) << describe(cmp, c);
  EXPECT_NE(c.err.find("is not in"), std::string::npos) << c.err;
  EXPECT_EQ(count_lines(c.err), 1u) << c.err;

  // Bad evaluation input: one line each, exit 2, before any work.
  const struct {
    std::string args, expect;
  } bad[] = {
      {"--threshold 1.5 --positive sandal", "--threshold: expected a number in [0, 1], got 1.5"},
      {"--positive coat", "--positive: expected one of the classes"},
      {"--class-subset 4-6", "class 'coat' is not a class of the model (sandal, shirt: "},
      {"--split holdout", "--split: expected train, val or test"},
  };
  for (const auto& b : bad) {
    const std::string cmd = thaw + " eval --run " + sh_quote(arm.string()) + " --out-dir " + sh_quote(dir / "bad") +
                            " " + b.args;
    const CommandResult e = run_command(cmd, dir);
    EXPECT_EQ(e.exit_code, 2) << describe(cmd, e);
    EXPECT_NE(e.err.find(b.expect), std::string::npos) << describe(cmd, e);
    EXPECT_EQ(count_lines(e.err), 1u) << describe(cmd, e);
  }

  // A sweep folder is not overwritten by accident; --resume keeps the finished arm.
  const CommandResult again = run_command(sweep, dir);
  EXPECT_EQ(again.exit_code, 2) << describe(sweep, again);
  EXPECT_NE(again.err.find("--resume"), std::string::npos) << again.err;
  const CommandResult resumed = run_command(sweep + " --resume", dir);
  ASSERT_EQ(resumed.exit_code, 0) << describe(sweep + " --resume", resumed);
  EXPECT_NE(resumed.err.find("mixed_7d): kept from the earlier sweep"), std::string::npos) << resumed.err;
  EXPECT_EQ(read_json(std::filesystem::path(out) / "sweep.json")["arms"][1], s["arms"][1]);
}

}  // namespace
}  // namespace thaw::testing
