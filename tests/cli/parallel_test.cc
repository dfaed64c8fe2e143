// Data parallelism end to end: `thaw train` with 1 and 4 thread ranks, and with 1 and 2 MPI
// processes, writes the same weights and the same steps.jsonl byte for byte; `thaw replay`
// repeats a run with another number of ranks; mismatched configurations across MPI ranks and
// impossible shard layouts are one clear error each.
#include <algorithm>
#include <cstdlib>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "engine/parallel/comm_mpi.h"
#include "tests/cli/cli_harness.h"

namespace thaw::testing {
namespace {

using thaw::cat_str;

constexpr const char* kFashion = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";

// 8 samples in batches of 8 cut into 4 shards of 2, two epochs: two steps; mixed_7d and the head train
// (batch norm on shards of 2 at 1x1); dropout keyed by batch position.
std::string train_args(const std::string& out, const std::string& extra = "", const std::string& shards = "4",
                       const std::string& lr = "0.05") {
  return " train --data fashion-mnist --input-size 75 --freeze-through mixed_7c --train-limit 8 --val-limit 2"
         " --batch-size 8 --shards " + shards + " --epochs 2 --lr " + lr + " --dropout 0.2 --seed 3 --out " +
         sh_quote(out) + " " + extra;
}

// mpirun on the PATH and MPI in this build; otherwise why not, for the skip message.
std::string why_no_mpi() {
  if (std::system("command -v mpirun >/dev/null 2>&1") != 0) {
    return "mpirun not found: install openmpi-bin (scripts/setup) to test MPI ranks";
  }
  if (!mpi_built()) return "thaw was built without MPI (libopenmpi-dev, scripts/setup): MPI ranks not tested";
  return "";
}

// As CI runs it: as root in a container, more processes than cores.
std::string mpirun(int np) {
  return cat_str("mpirun --allow-run-as-root --oversubscribe -np ", np, " ");
}

struct RunFiles {
  std::string weights, steps;
  nlohmann::json record;
};

RunFiles read_run(const std::filesystem::path& dir) {
  return {read_text(dir / "weights.safetensors"), read_text(dir / "steps.jsonl"),
          nlohmann::json::parse(read_text(dir / "record.json"))};
}

class Parallel : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!thaw_binary_exists()) GTEST_SKIP() << "thaw binary not built: " << THAW_BINARY;
    if (!std::filesystem::exists(kFashion)) GTEST_SKIP() << "Debian's dataset-fashion-mnist is not installed";
  }
  // Trains into dir/name with the prefix (mpirun ...) and extra flags; the run's files.
  RunFiles train(const std::string& name, const std::string& prefix, const std::string& extra) {
    const CommandResult r = run_command(prefix + THAW_BINARY + train_args(dir_ / name, extra), dir_);
    EXPECT_EQ(r.exit_code, 0) << describe(name, r);
    return read_run(dir_.path() / name);
  }
  ScratchDir dir_;
};

TEST_F(Parallel, ThreadAndMpiRanksWriteTheSameRun) {
  const RunFiles one = train("n1", "", "--ranks 1");
  ASSERT_GT(one.weights.size(), 100000000u);
  EXPECT_EQ(std::count(one.steps.begin(), one.steps.end(), '\n'), 2);
  EXPECT_EQ(one.record["V"], 4);
  EXPECT_EQ(one.record["N"], 1);
  // N = 2 runs in tests/engine/train/parallel_step_test.cc (with N = 1 and 4, every tensor compared).
  const RunFiles four = train("n4", "", "--ranks 4");
  EXPECT_EQ(four.record["N"], 4);
  EXPECT_EQ(four.record["V"], 4);
  EXPECT_TRUE(four.steps == one.steps) << "steps.jsonl differs with 4 ranks:\n" << four.steps << "\nvs\n" << one.steps;
  EXPECT_TRUE(four.weights == one.weights) << "the weights differ with 4 ranks";
  // The 4-rank run replays on 2 ranks.
  const CommandResult a = run_command(cat_str(THAW_BINARY, " replay ", sh_quote(dir_ / "n4"), " --ranks 2"), dir_);
  EXPECT_EQ(a.exit_code, 0) << describe("replay n4 with 2 ranks", a);
  EXPECT_NE(a.out.find("identical: 2 steps"), std::string::npos) << a.out;
  EXPECT_NE(a.out.find("with 2 ranks (recorded: 4)"), std::string::npos) << a.out;

  if (const std::string why = why_no_mpi(); !why.empty()) GTEST_SKIP() << why;
  const RunFiles mpi1 = train("mpi1", mpirun(1), "");
  const RunFiles mpi2 = train("mpi2", mpirun(2), "");
  EXPECT_EQ(mpi1.record["N"], 1);
  EXPECT_EQ(mpi2.record["N"], 2);
  EXPECT_TRUE(mpi1.steps == one.steps) << mpi1.steps << "\nvs\n" << one.steps;
  EXPECT_TRUE(mpi2.steps == one.steps) << mpi2.steps << "\nvs\n" << one.steps;
  EXPECT_TRUE(mpi1.weights == one.weights);
  EXPECT_TRUE(mpi2.weights == one.weights);
  // The single-process run replays on 2 MPI processes.
  const CommandResult r = run_command(mpirun(2) + cat_str(THAW_BINARY, " replay ", sh_quote(dir_ / "n1")), dir_);
  EXPECT_EQ(r.exit_code, 0) << describe("mpirun -np 2 thaw replay", r);
  EXPECT_NE(r.out.find("identical: 2 steps"), std::string::npos) << r.out;
}

TEST_F(Parallel, ImpossibleLayoutsAreOneLineErrors) {
  const struct {
    std::string extra, shards, expect;
  } cases[] = {
      {"--ranks 8", "4", "8 ranks do not divide --shards 4"},
      {"--ranks 3", "4", "--ranks: expected a power of two"},
      {"", "3", "--shards: expected a power of two"},
      {"", "16", "--shards 16 does not divide --batch-size 8"},
      {"", "8", "one value per channel"},
      {"--devices 0", "4", "--devices"},
      {"--devices 0,1,0", "4", "--devices: GPU 0 is named twice; NCCL runs one rank per GPU"},
      {"--device cuda --devices 1,1", "4", "--devices: GPU 1 is named twice"},
      {"--gpu-comm ring", "4", "--gpu-comm: expected nccl or staged, got 'ring'"},
      {"--rank-timeout 0", "4", "--rank-timeout"},
  };
  for (const auto& c : cases) {
    const CommandResult r = run_command(cat_str(THAW_BINARY, train_args(dir_ / "bad", c.extra, c.shards)), dir_);
    EXPECT_EQ(r.exit_code, 2) << describe(c.extra, r);
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << c.extra << ": " << r.err;
    EXPECT_FALSE(std::filesystem::exists(dir_.path() / "bad" / "record.json")) << c.extra << " wrote a record";
  }
}

// Batch 8 at 75x75: the default 8 shards would leave mixed_7d's 1x1 batch norms one value per
// channel, so the default takes 4, says so, and is the explicit --shards 4 run to the byte.
TEST_F(Parallel, TheDefaultShardsFallBackWhereEightCannotRun) {
  const CommandResult d = run_command(cat_str(THAW_BINARY, train_args(dir_ / "default", "", "0")), dir_);
  ASSERT_EQ(d.exit_code, 0) << describe("default shards", d);
  EXPECT_NE(d.err.find("thaw: --shards: the default 8 would leave a batch norm one value per channel at batch 8; "
                       "using 4"), std::string::npos) << d.err;
  const CommandResult e = run_command(cat_str(THAW_BINARY, train_args(dir_ / "four")), dir_);
  ASSERT_EQ(e.exit_code, 0) << describe("--shards 4", e);
  EXPECT_TRUE(read_text(dir_.path() / "default/weights.safetensors") == read_text(dir_.path() / "four/weights.safetensors"));
  EXPECT_EQ(nlohmann::json::parse(read_text(dir_.path() / "default/record.json"))["V"], 4);
}

TEST_F(Parallel, MpiRanksWithDifferentConfigurationsStop) {
  if (const std::string why = why_no_mpi(); !why.empty()) GTEST_SKIP() << why;
  // One command line per rank (MPMD): rank 1 was given another learning rate.
  const std::string base = cat_str("mpirun --allow-run-as-root --oversubscribe -np 1 ", THAW_BINARY,
                               train_args(dir_ / "mixed"), " : -np 1 ", THAW_BINARY,
                               train_args(dir_ / "mixed", "", "4", "0.07"));
  const CommandResult r = run_command(base, dir_);
  EXPECT_NE(r.exit_code, 0) << describe("mismatched ranks", r);
  EXPECT_NE(r.err.find("differs from rank 0's"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "mixed" / "record.json"));
  // Another GPU transport is a difference too, named (it would leave the ranks waiting for each other).
  const std::string transports = cat_str("mpirun --allow-run-as-root --oversubscribe -np 1 ", THAW_BINARY,
                                         train_args(dir_ / "mixed"), " : -np 1 ", THAW_BINARY,
                                         train_args(dir_ / "mixed", "--gpu-comm staged"));
  const CommandResult t = run_command(transports, dir_);
  EXPECT_EQ(t.exit_code, 2) << describe("mismatched --gpu-comm", t);
  EXPECT_NE(t.err.find("gpu_comm: rank 0 has \"nccl\", rank 1 has \"staged\""), std::string::npos) << t.err;
}

// GPU ranks under mpirun: each process picks its GPU by local rank (engine/run/rank_context.h). Where
// it cannot (no GPU here, or more processes than a node's GPUs) every rank stops with one line
// naming the rank and the cause, exit 2, before any step and without a record.
TEST_F(Parallel, MpiGpuRanksWithoutTheirGpusStopBeforeAnyStep) {
  if (const std::string why = why_no_mpi(); !why.empty()) GTEST_SKIP() << why;
  const CommandResult r =
      run_command(mpirun(2) + cat_str(THAW_BINARY, train_args(dir_ / "gpu", "--device cuda --devices 0")), dir_);
  EXPECT_EQ(r.exit_code, 2) << describe("mpirun -np 2 thaw train --device cuda --devices 0", r);
  // Local rank 1 has no entry in --devices 0 (or, without a GPU, neither rank has a GPU).
  const bool named =
      r.err.find("rank 1: --devices lists 1 GPU(s) per node, but this process is local rank 1") != std::string::npos ||
      r.err.find("rank 0: --device cuda: ") != std::string::npos;
  EXPECT_TRUE(named) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "gpu" / "record.json"));
}

}  // namespace
}  // namespace thaw::testing
