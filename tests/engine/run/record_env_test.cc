// The environment a record keeps, and which of its differences replay calls bit-changing.
#include "engine/run/record_env.h"

#include <omp.h>

#include <gtest/gtest.h>

namespace thaw {
namespace {

using ojson = nlohmann::ordered_json;

TEST(RecordEnv, CapturesTheMachineTheBuildAndTheLoadedLibraries) {
  const ojson env = capture_environment();
  EXPECT_EQ(env["build"]["march"], THAW_CPU_ARCH);
  EXPECT_EQ(env["thaw"]["version"], THAW_VERSION);
  EXPECT_FALSE(env["thaw"]["git_describe"].get<std::string>().empty());
  EXPECT_EQ(env["openmp_threads"], omp_get_max_threads());
  EXPECT_GE(env["cpu"]["logical_cores"].get<int>(), 1);
  EXPECT_EQ(env["device"], "cpu");
  EXPECT_TRUE(env["gpus"].empty());
  EXPECT_EQ(env["executable"]["sha256"].get<std::string>().size(), 64u);
  // This test binary links the C library and OpenMP's runtime: both must be listed with a hash.
  bool libc = false, gomp = false;
  for (const auto& l : env["libraries"]) {
    const std::string p = l["path"];
    EXPECT_EQ(p.front(), '/') << p;
    EXPECT_EQ(l["sha256"].get<std::string>().size(), 64u) << p;
    libc = libc || p.find("libc.so") != std::string::npos;
    gomp = gomp || p.find("libgomp") != std::string::npos;
  }
  EXPECT_TRUE(libc);
  EXPECT_TRUE(gomp);
#if defined(__x86_64__)
  bool has_sse2 = false;
  for (const auto& f : env["cpu"]["vector_extensions"]) has_sse2 = has_sse2 || f == "sse2";
  EXPECT_TRUE(has_sse2);
  for (const auto& f : env["cpu"]["vector_extensions"]) EXPECT_NE(f, "hypervisor");
#endif
}

TEST(RecordEnv, SortsDifferencesByWhetherTheyCanChangeBits) {
  const ojson rec = capture_environment();
  EXPECT_TRUE(compare_environments(rec, rec).empty());
  ojson now = rec;
  now["openmp_threads"] = rec["openmp_threads"].get<int>() + 1;
  now["os"]["release"] = "9.9.9";
  now["cpu"]["model"] = "Another CPU";
  ASSERT_FALSE(now["libraries"].empty());
  // The same file found under another folder is no difference; another hash is.
  now["libraries"][0]["path"] = "/elsewhere/" + std::filesystem::path(rec["libraries"][0]["path"].get<std::string>())
                                                    .filename().string();
  const std::vector<EnvDifference> d = compare_environments(rec, now);
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0].field, "cpu.model");
  EXPECT_TRUE(d[0].bit_changing);
  EXPECT_EQ(d[1].field, "os.release");
  EXPECT_FALSE(d[1].bit_changing);
  EXPECT_EQ(d[2].field, "openmp_threads");
  EXPECT_FALSE(d[2].bit_changing);
  EXPECT_NE(d[2].why.find("thread count"), std::string::npos);

  now = rec;
  now["libraries"][0]["sha256"] = std::string(64, '0');
  const std::vector<EnvDifference> lib = compare_environments(rec, now);
  ASSERT_EQ(lib.size(), 1u);
  EXPECT_TRUE(lib[0].bit_changing);
  EXPECT_EQ(lib[0].field.rfind("library ", 0), 0u) << lib[0].field;
  EXPECT_EQ(lib[0].present, std::string(64, '0'));
}

// A GPU run's record names its card and CUDA libraries; where none can be queried (here, or a build
// without CUDA) the device says why, so replay lists the difference instead of failing.
TEST(RecordEnv, AGpuRunRecordsItsCardAndReplayComparesIt) {
  const ojson cpu = capture_environment("cpu");
  const ojson cuda = capture_environment("cuda");
  if (cuda["device"] == "cuda") {
    ASSERT_EQ(cuda["gpus"].size(), 1u);
    EXPECT_EQ(cuda["gpus"][0]["uuid"].get<std::string>().rfind("GPU-", 0), 0u);
    EXPECT_GT(cuda["gpus"][0]["sm_count"].get<int>(), 0);
    EXPECT_GT(cuda["cuda"]["cudnn"].get<long long>(), 0);
  } else {
    EXPECT_EQ(cuda["device"].get<std::string>().rfind("cuda (unavailable: ", 0), 0u) << cuda["device"];
    EXPECT_TRUE(cuda["gpus"].empty());
  }
  const std::vector<EnvDifference> d = compare_environments(cuda, cpu);
  ASSERT_FALSE(d.empty());
  EXPECT_EQ(d[0].field, "device");
  EXPECT_TRUE(d[0].bit_changing);

  // Two records of the same model of card: only another model, capability or SM count can change bits.
  ojson a = cpu;
  a["device"] = "cuda";
  a["gpus"] = ojson::array({{{"ordinal", 0}, {"name", "NVIDIA H100 80GB HBM3"}, {"uuid", "GPU-1"},
                             {"compute_capability", "9.0"}, {"sm_count", 132}, {"memory_bytes", 85000000000LL}}});
  a["cuda"] = {{"driver", 13000}, {"runtime", 13000}, {"cudnn", 91900}, {"cublaslt", 130100}};
  ojson b = a;
  b["gpus"][0]["uuid"] = "GPU-2";
  std::vector<EnvDifference> same_model = compare_environments(a, b);
  ASSERT_EQ(same_model.size(), 1u);
  EXPECT_EQ(same_model[0].field, "gpus.uuid");
  EXPECT_FALSE(same_model[0].bit_changing);
  b["gpus"][0]["name"] = "NVIDIA H200";
  b["gpus"][0]["sm_count"] = 132;
  b["cuda"]["cudnn"] = 91000;
  const std::vector<EnvDifference> other = compare_environments(a, b);
  ASSERT_EQ(other.size(), 3u);
  EXPECT_EQ(other[0].field, "cuda.cudnn");
  EXPECT_TRUE(other[0].bit_changing);
  EXPECT_EQ(other[1].field, "gpus.name");
  EXPECT_TRUE(other[1].bit_changing);
  EXPECT_EQ(other[2].field, "gpus.uuid");
}

TEST(RecordEnv, TheRecordedDeviceOfOldRecordsIsTheCpu) {
  EXPECT_EQ(recorded_device(ojson{{"config", {{"seed", 0}}}}), "cpu");
  EXPECT_EQ(recorded_device(ojson::object()), "cpu");
  EXPECT_EQ(recorded_device(ojson{{"config", {{"device", "cuda"}}}}), "cuda");
}

}  // namespace
}  // namespace thaw
