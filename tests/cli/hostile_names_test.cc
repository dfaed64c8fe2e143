// Names are data, whatever they hold: class names and file names with commas, quotes, a line
// break, <, > and & round-trip through every CSV thaw writes (predict's, eval's predictions; read
// back with the RFC 4180 reader), and a folder name is escaped in the sweep's HTML report.
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "io/csv.h"
#include "tests/cli/cli_harness.h"

namespace thaw::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kComma = "a,b \"q\"";
constexpr const char* kAngle = "<x>&y";
constexpr const char* kData = "d<&>\"q\"";

// Two classes of eight images each, one file with a comma and quotes, one with a line break, in a
// folder whose name the report must escape.
constexpr const char* kScript = R"PY(
import os, sys
import numpy as np
from PIL import Image
root = sys.argv[1]
rng = np.random.default_rng(5)
for c in ('a,b "q"', "<x>&y"):
    os.makedirs(os.path.join(root, 'd<&>"q"', c))
    for i in range(8):
        name = {0: 'img, "0".png', 1: "two\nlines.png"}.get(i, "%d.png" % i)
        Image.fromarray(rng.integers(0, 256, size=(40, 40, 3), dtype=np.uint8)).save(os.path.join(root, 'd<&>"q"', c, name))
)PY";

class HostileNames : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!thaw_binary_exists()) GTEST_SKIP() << "thaw binary not built: " << THAW_BINARY;
    const std::string script = dir_ / "make.py";
    std::ofstream(script) << kScript;
    const CommandResult r = run_command(std::string(kPython) + " " + sh_quote(script) + " " + sh_quote(dir_.path()), dir_);
    if (r.exit_code != 0) GTEST_SKIP() << kPython << " with numpy and PIL is needed: " << r.err;
  }
  CommandResult thaw(const std::string& args) {
    return run_command("OMP_WAIT_POLICY=passive " + sh_quote(THAW_BINARY) + " " + args, dir_);
  }
  std::string common() const {
    return " --data " + sh_quote(dir_ / kData) + " --input-size 75 --batch-size 4 --epochs 1 --threads 2 --workers 1";
  }

  ScratchDir dir_;
};

TEST_F(HostileNames, RoundTripThroughEveryCsvAndAreEscapedInTheReport) {
  const CommandResult t = thaw("train" + common() + " --freeze-through mixed_7d --val-fraction 0.25 --out " +
                               sh_quote(dir_ / "run"));
  ASSERT_EQ(t.exit_code, 0) << describe("train", t);

  // predict on a class folder: the header holds the class names, the rows the file names.
  const CommandResult p = thaw("predict --weights " + sh_quote(dir_ / "run/weights.safetensors") + " --classes 2" +
                               " --input-size 75 --input " + sh_quote(dir_ / (std::string(kData) + "/a,b \"q\"")) + " --output " +
                               sh_quote(dir_ / "p.csv"));
  ASSERT_EQ(p.exit_code, 0) << describe("predict", p);
  const CsvTable pt = read_csv(dir_ / "p.csv");
  EXPECT_THAT(pt.header, ElementsAre("path", "predicted", kAngle, kComma));
  ASSERT_EQ(pt.rows.size(), 8u);
  bool comma_file = false, newline_file = false;
  for (const auto& row : pt.rows) {
    ASSERT_EQ(row.size(), 4u);
    comma_file = comma_file || row[0].ends_with("/img, \"0\".png");
    newline_file = newline_file || row[0].ends_with("/two\nlines.png");
    EXPECT_TRUE(row[1] == kComma || row[1] == kAngle) << row[1];
  }
  EXPECT_TRUE(comma_file);
  EXPECT_TRUE(newline_file);

  // An unreadable image among them: the run stops naming it, or with --on-bad-image skip the CSV
  // holds the readable ones and OUTPUT.skipped.txt lists it.
  const std::string folder = dir_ / (std::string(kData) + "/a,b \"q\"");
  std::ofstream(folder + "/broken.png") << "not a png";
  const std::string predict = "predict --weights " + sh_quote(dir_ / "run/weights.safetensors") +
                              " --classes 2 --input-size 75 --input " + sh_quote(folder) + " --output " +
                              sh_quote(dir_ / "q.csv");
  // Without the flag the command stops naming the file; with it, `csv` holds `rows` rows, `list`
  // names the file and stderr says `said`.
  const auto stop_then_skip = [&](const std::string& cmd, const std::string& csv, size_t rows, const std::string& list,
                                  const std::string& said) {
    const CommandResult stop = thaw(cmd);
    EXPECT_EQ(stop.exit_code, 2) << describe(cmd, stop);
    EXPECT_THAT(stop.err, HasSubstr("broken.png: not a JPEG, PNG, TIFF or DICOM image"));
    const CommandResult skip = thaw(cmd + " --on-bad-image skip");
    ASSERT_EQ(skip.exit_code, 0) << describe(cmd + " --on-bad-image skip", skip);
    EXPECT_EQ(read_csv(dir_ / csv).rows.size(), rows);
    EXPECT_THAT(read_text(dir_.path() / list), HasSubstr("broken.png: "));
    EXPECT_THAT(skip.err, HasSubstr(said));
  };
  stop_then_skip(predict, "q.csv", 8, "q.csv.skipped.txt", "skipped 1 unreadable image (--on-bad-image skip), listed in ");
  // eval the same way, listing the file in skipped-train.txt.
  const std::string eval = "eval --weights " + sh_quote(dir_ / "run/weights.safetensors") + " --input-size 75 --data " +
                           sh_quote(dir_ / kData) + " --split train --out-dir " + sh_quote(dir_ / "evs");
  stop_then_skip(eval, "evs/predictions-train.csv", 16, "evs/skipped-train.txt",
                 "left out 1 unreadable image (--on-bad-image skip)");
  std::filesystem::remove(folder + "/broken.png");

  // eval --run: the predictions CSV holds the names as labels and predictions.
  const CommandResult e = thaw("eval --run " + sh_quote(dir_ / "run") + " --split val --out-dir " + sh_quote(dir_ / "ev"));
  ASSERT_EQ(e.exit_code, 0) << describe("eval", e);
  const CsvTable et = read_csv(dir_ / "ev/predictions-val.csv");
  EXPECT_THAT(et.header, ElementsAre("path", "hash", "label", "predicted", kAngle, kComma));
  ASSERT_EQ(et.rows.size(), 4u);
  for (const auto& row : et.rows) {
    EXPECT_TRUE(row[2] == kComma || row[2] == kAngle) << row[2];
    EXPECT_TRUE(row[3] == kComma || row[3] == kAngle) << row[3];
  }

  // The sweep's report names the data folder: escaped, never raw.
  const CommandResult s = thaw("sweep" + common() + " --freeze-through mixed_7d --val-fraction 0.25" +
                               " --test-fraction 0.25 --out " + sh_quote(dir_ / "sweep"));
  ASSERT_EQ(s.exit_code, 0) << describe("sweep", s);
  const std::string html = read_text(dir_.path() / "sweep/report.html");
  EXPECT_THAT(html, HasSubstr("d&lt;&amp;&gt;&quot;q&quot;"));
  EXPECT_THAT(html, Not(HasSubstr(kData)));
}

}  // namespace
}  // namespace thaw::testing
