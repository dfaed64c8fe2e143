// `thaw report RUN_DIR --positive CLASS`: the validation pack of a small finished run. The
// operating point is chosen on validation (one of the validation scores), the test figures are
// counted on every test sample of the class, the provenance names the very bytes (record, weights),
// a second report reuses the predictions of the same weights, and the mistakes are one line, exit 2.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "core/sha256.h"
#include "io/csv.h"
#include "tests/cli/cli_harness.h"
#include "tests/cli/idx_fixture.h"

namespace thaw::testing {
namespace {

using ::testing::HasSubstr;

TEST(ReportCommand, ValidationPackOfARun) {
  if (!thaw_binary_exists()) GTEST_SKIP() << "thaw binary not built: " << THAW_BINARY;
  ScratchDir dir;
  write_idx_folder(dir.path() / "idx", 48, 24, 3);
  const std::string thaw = "OMP_WAIT_POLICY=passive " + std::string(THAW_BINARY);
  const std::string train = thaw + " train --data " + sh_quote(dir / "idx") + " --val-fraction 0.25 --input-size 75"
                            " --freeze-through mixed_7d --batch-size 4 --max-steps 3 --threads 2 --workers 1 --out " +
                            sh_quote(dir / "run");
  CommandResult r = run_command(train, dir);
  ASSERT_EQ(r.exit_code, 0) << describe(train, r);
  std::ofstream(dir.path() / "use.yaml") << "intended_use: a test of the report\nsites: [one, two]\n";
  const std::string report = thaw + " report " + sh_quote(dir / "run") + " --positive 1 --bins 5 --bootstrap 20"
                             " --intended-use " + sh_quote(dir / "use.yaml");
  r = run_command(report, dir);
  ASSERT_EQ(r.exit_code, 0) << describe(report, r);
  EXPECT_THAT(r.err, HasSubstr("evaluating the run on its test split"));
  const std::filesystem::path out = dir.path() / "run" / "validation";
  const nlohmann::json doc = read_json(out / "validation.json");
  EXPECT_EQ(doc["format"], "thaw-validation");

  // The threshold is one of the validation scores of class 1.
  const CsvTable val = read_csv(dir.path() / "run" / "predictions-val.csv");
  const int col = val.column("1");
  std::set<double> scores;
  for (const auto& row : val.rows) scores.insert(std::stod(row[static_cast<size_t>(col)]));
  EXPECT_TRUE(scores.count(doc["operating_point"]["threshold"].get<double>())) << doc["operating_point"].dump();
  // Test figures over the 8 test samples of class 1 (labels cycle through 3 classes over 24).
  EXPECT_EQ(doc["test"]["samples"], 24);
  EXPECT_EQ(doc["test"]["at_operating_point"]["sensitivity"]["trials"], 8);
  EXPECT_EQ(doc["test"]["at_operating_point"]["specificity"]["trials"], 16);
  EXPECT_EQ(doc["calibration"]["bins"], 5);
  int64_t binned = 0;
  for (const auto& b : doc["calibration"]["positive"]["table"]) binned += b["count"].get<int64_t>();
  EXPECT_EQ(binned, 24);
  // Provenance: the bytes themselves.
  EXPECT_EQ(doc["provenance"]["weights_sha256"], sha256_file_hex(dir.path() / "run" / "weights.safetensors"));
  EXPECT_EQ(doc["provenance"]["record_sha256"], sha256_file_hex(dir.path() / "run" / "record.json"));
  EXPECT_EQ(doc["provenance"]["steps"], 3);
  EXPECT_EQ(doc["intended_use"][1]["texts"], nlohmann::json({"one", "two"}));
  const std::string html = read_text(out / "validation.html");
  for (const char* s : {"Intended use", "Performance on the test split", "Calibration on the test split", "Provenance",
                        "a test of the report"}) {
    EXPECT_THAT(html, HasSubstr(s));
  }
  EXPECT_THAT(html, HasSubstr("data:image/png;base64,")) << read_text(out / "plots" / "plots.log");

  r = run_command(report, dir);
  ASSERT_EQ(r.exit_code, 0) << describe(report, r);
  EXPECT_THAT(r.err, HasSubstr("test predictions from"));

  std::ofstream(dir.path() / "bad.yaml") << "intended_use: x\nowner: someone\n";
  const struct {
    std::string args, expect;
  } cases[] = {
      {sh_quote(dir / "run") + " --positive 7", "--positive: '7' is not a class of the model (0, 1, 2)"},
      {sh_quote(dir / "run") + " --positive 1 --intended-use " + sh_quote(dir / "bad.yaml"),
       "bad.yaml: 'owner' is not a field of the intended-use sidecar"},
      {sh_quote(dir / "idx") + " --positive 1", "record.json not found (expected a thaw run folder)"},
  };
  for (const auto& c : cases) {
    const std::string cmd = thaw + " report " + c.args + " --out " + sh_quote(dir / "bad_out");
    const CommandResult b = run_command(cmd, dir);
    EXPECT_EQ(b.exit_code, 2) << describe(cmd, b);
    EXPECT_THAT(b.err, HasSubstr(c.expect)) << describe(cmd, b);
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "bad_out")) << describe(cmd, b);
  }
}

}  // namespace
}  // namespace thaw::testing
