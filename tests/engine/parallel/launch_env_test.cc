// The launcher's environment: which variables make a rank, and which do not.
#include "engine/parallel/launch_env.h"

#include <map>
#include <string>

#include <gtest/gtest.h>

#include "core/error.h"

namespace thaw {
namespace {

std::optional<LaunchEnv> detect(const std::map<std::string, std::string>& env) {
  return detect_launch([&](const char* name) -> const char* {
    const auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
}

TEST(LaunchEnv, OpenMpiMpichAndSrun) {
  EXPECT_FALSE(detect({}).has_value());
  const auto ompi = detect({{"OMPI_COMM_WORLD_RANK", "1"}, {"OMPI_COMM_WORLD_SIZE", "4"}});
  ASSERT_TRUE(ompi.has_value());
  EXPECT_EQ(ompi->rank, 1);
  EXPECT_EQ(ompi->size, 4);
  EXPECT_EQ(ompi->source, "OMPI_COMM_WORLD_RANK/OMPI_COMM_WORLD_SIZE");
  const auto pmi = detect({{"PMI_RANK", "3"}, {"PMI_SIZE", "8"}});
  ASSERT_TRUE(pmi.has_value());
  EXPECT_EQ(pmi->rank, 3);
  const auto srun = detect({{"SLURM_PROCID", "2"}, {"SLURM_STEP_NUM_TASKS", "16"}, {"SLURM_NTASKS", "16"}});
  ASSERT_TRUE(srun.has_value());
  EXPECT_EQ(srun->size, 16);
}

TEST(LaunchEnv, TheLocalRankPicksAGpuRanksGpu) {
  const auto ompi = detect({{"OMPI_COMM_WORLD_RANK", "5"}, {"OMPI_COMM_WORLD_SIZE", "8"},
                            {"OMPI_COMM_WORLD_LOCAL_RANK", "1"}});
  ASSERT_TRUE(ompi.has_value());
  EXPECT_EQ(ompi->local_rank, 1);
  EXPECT_EQ(ompi->local_source, "OMPI_COMM_WORLD_LOCAL_RANK");
  const auto srun = detect({{"SLURM_PROCID", "9"}, {"SLURM_STEP_NUM_TASKS", "16"}, {"SLURM_LOCALID", "3"}});
  ASSERT_TRUE(srun.has_value());
  EXPECT_EQ(srun->local_rank, 3);
  const auto mpich = detect({{"PMI_RANK", "2"}, {"PMI_SIZE", "4"}, {"MPI_LOCALRANKID", "0"}});
  ASSERT_TRUE(mpich.has_value());
  EXPECT_EQ(mpich->local_rank, 0);
  const auto none = detect({{"PMI_RANK", "2"}, {"PMI_SIZE", "4"}});
  ASSERT_TRUE(none.has_value());
  EXPECT_EQ(none->local_rank, -1);
  EXPECT_THROW(detect({{"PMI_RANK", "2"}, {"PMI_SIZE", "4"}, {"PMI_LOCAL_RANK", "-1"}}), UserError);
}

TEST(LaunchEnv, ASlurmBatchScriptIsNotALaunch) {
  // sbatch sets these for the one process of its script; only srun's steps are ranks.
  EXPECT_FALSE(detect({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "4"}}).has_value());
}

TEST(LaunchEnv, MalformedValuesNameTheVariable) {
  try {
    detect({{"OMPI_COMM_WORLD_RANK", "x"}, {"OMPI_COMM_WORLD_SIZE", "2"}});
    FAIL();
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("OMPI_COMM_WORLD_RANK"), std::string::npos) << e.what();
  }
  EXPECT_THROW(detect({{"PMI_RANK", "4"}, {"PMI_SIZE", "4"}}), UserError);
}

}  // namespace
}  // namespace thaw
