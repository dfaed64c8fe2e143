// timm's flag names for thaw train's flags of the same meaning (README's table of equivalents):
// a run given timm's names is the run given thaw's, to the byte.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_harness.h"
#include "tests/cli/idx_fixture.h"

namespace thaw::testing {
namespace {

TEST(TimmAliases, TimmsFlagNamesTrainTheSameRun) {
  if (!thaw_binary_exists()) GTEST_SKIP() << "thaw binary not built: " << THAW_BINARY;
  ScratchDir dir;
  write_idx_folder(dir.path() / "idx");
  const std::string common = sh_quote(THAW_BINARY) + " train --data " + sh_quote(dir / "idx") +
                             " --input-size 75 --freeze-through mixed_7c --train-limit 4 --val-limit 2 --epochs 1"
                             " --seed 9 --threads 2 --workers 1 ";
  const std::string thaw_names = common + "--arch inception_v4 --classes 10 --batch-size 2 --lr-schedule constant "
                                          "--optimizer adamw --label-smoothing 0.1 --dropout 0.2 --out " + sh_quote(dir / "a");
  const std::string timm_names = common + "--model inception_v4 --num-classes 10 -b 2 --sched constant --opt adamw "
                                          "--smoothing 0.1 --drop 0.2 --output " + sh_quote(dir / "b");
  const CommandResult a = run_command(thaw_names, dir);
  ASSERT_EQ(a.exit_code, 0) << describe(thaw_names, a);
  const CommandResult b = run_command(timm_names, dir);
  ASSERT_EQ(b.exit_code, 0) << describe(timm_names, b);
  nlohmann::json ca = read_json(dir.path() / "a/record.json")["config"];
  nlohmann::json cb = read_json(dir.path() / "b/record.json")["config"];
  EXPECT_EQ(cb["optimizer"], "adamw");
  EXPECT_EQ(cb["batch_size"], 2);
  ca.erase("out");
  cb.erase("out");
  EXPECT_EQ(ca, cb);
  EXPECT_TRUE(read_text(dir.path() / "a/weights.safetensors") == read_text(dir.path() / "b/weights.safetensors"));
}

}  // namespace
}  // namespace thaw::testing
