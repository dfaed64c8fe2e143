// What a writer killed mid-write leaves (io/atomic_file.h's ".<name>.tmp-<pid>-<n>") is found by
// its exact form and removed only when that writer is gone; other files stay, whatever their names.
#include "io/temp_leftovers.h"

#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "io/atomic_file.h"
#include "tests/support/dead_pid.h"
#include "tests/support/temp_dir.h"

namespace thaw {
namespace {

namespace fs = std::filesystem;

TEST(TempLeftovers, OnlyAtomicFileNamesAreOurs) {
  EXPECT_EQ(atomic_temp_writer(".checkpoint-000000005.safetensors.tmp-4242-0"), 4242);
  EXPECT_EQ(atomic_temp_writer(".record.json.tmp-7-12"), 7);
  EXPECT_EQ(atomic_temp_writer("record.json.tmp-7-12"), 0);  // no leading dot
  EXPECT_EQ(atomic_temp_writer(".x.tmp-12ab-0"), 0);
  EXPECT_EQ(atomic_temp_writer(".x.tmp-12-"), 0);
  EXPECT_EQ(atomic_temp_writer(".x.tmp-0-1"), 0);
  EXPECT_EQ(atomic_temp_writer(".notes.tmp"), 0);
  EXPECT_EQ(atomic_temp_writer(".tmp-5-1"), 0);
}

TEST(TempLeftovers, ADeadWritersFilesGoAndALiveWritersStay) {
  testkit::TempDir dir("thaw-leftovers");
  const fs::path d = dir.path();
  const std::string dead = ".w.safetensors.tmp-" + std::to_string(testkit::dead_pid()) + "-0";
  const std::string live = ".w.safetensors.tmp-" + std::to_string(::getppid()) + "-0";  // our parent lives
  std::ofstream(d / dead) << std::string(1000, 'x');
  std::ofstream(d / live) << "y";
  std::ofstream(d / "w.safetensors") << "z";
  std::ofstream(d / ".notes.tmp") << "n";
  const RemovedLeftovers r = remove_dead_temporaries(d);
  ASSERT_EQ(r.files.size(), 1u);
  EXPECT_EQ(r.files[0], d / dead);
  EXPECT_EQ(r.bytes, 1000u);
  EXPECT_FALSE(fs::exists(d / dead));
  EXPECT_TRUE(fs::exists(d / live));
  EXPECT_TRUE(fs::exists(d / "w.safetensors"));
  EXPECT_TRUE(fs::exists(d / ".notes.tmp"));
}

// The name io/atomic_file.h gives its temporary is the one recognised here: a write that throws
// midway leaves nothing, and a name made by the same rule parses back to this process.
TEST(TempLeftovers, TheAtomicWritersOwnNameIsRecognised) {
  const std::string name = ".summary.json.tmp-" + std::to_string(::getpid()) + "-0";
  EXPECT_EQ(atomic_temp_writer(name), ::getpid());
  testkit::TempDir dir("thaw-leftovers");
  EXPECT_THROW(write_file_atomic(dir.path() / "summary.json",
                                 [](std::ostream& os) {
                                   os << "partial";
                                   throw std::runtime_error("writer failed");
                                 }),
               std::runtime_error);
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

}  // namespace
}  // namespace thaw
