// `thaw train --config FILE` (YAML or JSON: flag names without the dashes) and `--from-record
// RUN_DIR`: the command line wins over the file, the file over the record; the run records the
// options it resolved to, so a run started from a record's options trains the same bits; a key that
// is no flag, a value its flag refuses, or --from-record without a new --out is one line, exit 2,
// before any run folder is made.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "tests/cli/cli_harness.h"
#include "tests/cli/idx_fixture.h"

namespace thaw::testing {
namespace {

using ::testing::HasSubstr;

class RunFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!thaw_binary_exists()) GTEST_SKIP() << "thaw binary not built: " << THAW_BINARY;
    write_idx_folder(dir_.path() / "idx");
  }
  std::string train(const std::string& out, const std::string& extra) const {
    return "OMP_WAIT_POLICY=passive " + std::string(THAW_BINARY) + " train --out " + sh_quote(dir_ / out) +
           " --threads 2 --workers 1 " + extra;
  }
  nlohmann::json config(const std::string& run) const { return read_json(dir_.path() / run / "record.json")["config"]; }
  ScratchDir dir_;
};

TEST_F(RunFiles, ConfigFileThenCommandLineAndARecordsOptionsGiveTheSameBits) {
  std::ofstream(dir_.path() / "run.yaml") << "# a run as a file\ndata: " << (dir_.path() / "idx").string()
                                          << "\ninput_size: 75\nbatch-size: 4\nmax_steps: 3\nlr: 0.05\n"
                                             "freeze_through: mixed_7d\nrrc_scale: [0.5, 1.0]\nnesterov: true\n";
  const std::string a = train("a", "--config " + sh_quote(dir_ / "run.yaml") + " --lr 0.02");
  CommandResult r = run_command(a, dir_);
  ASSERT_EQ(r.exit_code, 0) << describe(a, r);
  const nlohmann::json ca = config("a");
  EXPECT_EQ(ca["batch_size"], 4);
  EXPECT_EQ(ca["input_size"], 75);
  EXPECT_EQ(ca["freeze_through"], "mixed_7d");
  EXPECT_EQ(ca["nesterov"], true);
  EXPECT_EQ(ca["rrc_scale"], nlohmann::json({0.5, 1.0}));
  EXPECT_EQ(ca["lr"], 0.02);  // the command line wins
  // The record's command is what was typed, not the file's contents.
  EXPECT_THAT(read_json(dir_.path() / "a" / "record.json")["command"].get<std::string>(), HasSubstr("--config"));

  // JSON too.
  std::ofstream(dir_.path() / "run.json") << "{\"data\": \"" << (dir_.path() / "idx").string()
                                          << "\", \"input_size\": 75, \"batch_size\": 4, \"max_steps\": 3, \"lr\": 0.02,"
                                             " \"freeze_through\": \"mixed_7d\", \"rrc_scale\": [0.5, 1.0], \"nesterov\": true}";
  r = run_command(train("j", "--config " + sh_quote(dir_ / "run.json")), dir_);
  ASSERT_EQ(r.exit_code, 0) << describe("train from run.json", r);
  nlohmann::json cj = config("j"), ca_out = ca;
  cj.erase("out");
  ca_out.erase("out");
  EXPECT_EQ(cj, ca_out);

  // A new run from a's record: the same options, so the same steps to the bit; a flag given wins.
  const std::string b = train("b", "--from-record " + sh_quote(dir_ / "a"));
  r = run_command(b, dir_);
  ASSERT_EQ(r.exit_code, 0) << describe(b, r);
  nlohmann::json cb = config("b");
  EXPECT_EQ(cb["out"], (dir_.path() / "b").string());
  cb["out"] = ca["out"];
  EXPECT_EQ(cb, ca);
  const auto sa = read_json_lines(dir_.path() / "a" / "steps.jsonl"), sb = read_json_lines(dir_.path() / "b" / "steps.jsonl");
  ASSERT_EQ(sa.size(), 3u);
  ASSERT_EQ(sb.size(), 3u);
  for (size_t i = 0; i < sa.size(); ++i) EXPECT_EQ(sa[i]["param_checksum"], sb[i]["param_checksum"]) << "step " << i;
  r = run_command(train("c", "--from-record " + sh_quote(dir_ / "a") + " --max-steps 1"), dir_);
  ASSERT_EQ(r.exit_code, 0) << describe("train c", r);
  EXPECT_EQ(config("c")["max_steps"], 1);
  EXPECT_EQ(config("c")["lr"], 0.02);
}

TEST_F(RunFiles, WhatAFileOrRecordCannotGiveIsOneLine) {
  std::ofstream(dir_.path() / "typo.yaml") << "batch_sise: 4\n";
  std::ofstream(dir_.path() / "bad.yaml") << "batch_size: 0\n";
  std::ofstream(dir_.path() / "nested.yaml") << "lr:\n  base: 0.1\n";
  std::ofstream(dir_.path() / "broken.json") << "{\"lr\": 0.1,";
  const struct {
    std::string args, expect;
  } cases[] = {
      {"--config " + sh_quote(dir_ / "typo.yaml"),
       (dir_.path() / "typo.yaml").string() + ": 'batch_sise' is not a flag of thaw train"},
      {"--config " + sh_quote(dir_ / "bad.yaml"), (dir_.path() / "bad.yaml").string() + ": batch_size: "},
      {"--config " + sh_quote(dir_ / "nested.yaml"), "lr: expected a value or a list of values, not a mapping"},
      {"--config " + sh_quote(dir_ / "broken.json"), "broken.json: not a JSON object"},
      {"--config " + sh_quote(dir_ / "missing.yaml"), "--config: " + (dir_.path() / "missing.yaml").string() + " not found"},
      {"--from-record " + sh_quote(dir_ / "nowhere"), "--from-record: " + (dir_.path() / "nowhere" / "record.json").string() +
                                                          " not found"},
  };
  for (const auto& c : cases) {
    const std::string cmd = train("out", c.args);
    const CommandResult r = run_command(cmd, dir_);
    EXPECT_EQ(r.exit_code, 2) << describe(cmd, r);
    EXPECT_THAT(r.err, HasSubstr("thaw: error: ")) << describe(cmd, r);
    EXPECT_THAT(r.err, HasSubstr(c.expect)) << describe(cmd, r);
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << describe(cmd, r);
    EXPECT_FALSE(std::filesystem::exists(dir_.path() / "out")) << describe(cmd, r);
  }
  const std::string no_out = "OMP_WAIT_POLICY=passive " + std::string(THAW_BINARY) + " train --from-record " + sh_quote(dir_ / "idx");
  std::ofstream(dir_.path() / "idx" / "record.json") << "{}";
  const CommandResult r = run_command(no_out, dir_);
  EXPECT_EQ(r.exit_code, 2) << describe(no_out, r);
  EXPECT_THAT(r.err, HasSubstr("--from-record: give --out"));
}

}  // namespace
}  // namespace thaw::testing
