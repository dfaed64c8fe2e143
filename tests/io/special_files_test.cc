// Files whose size is not theirs to state: devices, pipes and folders are refused by type before a
// byte is read (once /dev/zero as --weights read 2.2 GB before std::bad_alloc), and a file larger
// than the memory there is is refused before it is allocated.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include <string>

#include <gtest/gtest.h>

#include "core/memory.h"
#include "io/file_bytes.h"
#include "io/free_space.h"
#include "io/idx.h"
#include "io/mapped_file.h"
#include "tests/support/temp_dir.h"
#include "tests/support/user_error.h"

namespace thaw {
namespace {

using testkit::user_error_of;

TEST(SpecialFiles, ADeviceIsRefusedByEveryReader) {
  EXPECT_EQ(user_error_of([] { read_file_bytes("/dev/zero"); }), "cannot read /dev/zero: a character device, not a file");
  EXPECT_EQ(user_error_of([] { MappedFile m("/dev/zero"); }), "cannot read /dev/zero: a character device, not a file");
  EXPECT_EQ(user_error_of([] { read_idx_images("/dev/zero"); }), "cannot read /dev/zero: a character device, not a file");
}

TEST(SpecialFiles, APipeIsRefusedWithoutWaitingForAWriter) {
  testkit::TempDir dir("thaw-special");
  const std::string fifo = (dir.path() / "weights.safetensors").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(user_error_of([&] { read_file_bytes(fifo); }), "cannot read " + fifo + ": a pipe, not a file");
  EXPECT_EQ(user_error_of([&] { MappedFile m(fifo); }), "cannot read " + fifo + ": a pipe, not a file");
}

TEST(SpecialFiles, AFolderIsRefused) {
  testkit::TempDir dir("thaw-special");
  const std::string msg = user_error_of([&] { read_file_bytes(dir.path()); });
  EXPECT_NE(msg.find("Is a directory"), std::string::npos) << msg;
}

TEST(MemoryCheck, MoreThanIsAvailableIsAUserErrorSayingBothSizes) {
  const int64_t available = available_memory_bytes();
  ASSERT_GT(available, 0);
  check_fits_in_memory(1024, "a small thing");  // no throw
  const std::string msg = user_error_of([&] { check_fits_in_memory(available * 4, "the test's tensor", "; ask less"); });
  EXPECT_TRUE(msg.starts_with("not enough memory for the test's tensor: ")) << msg;
  EXPECT_NE(msg.find(gib_text(available * 4) + " asked"), std::string::npos) << msg;
  EXPECT_TRUE(msg.ends_with(" available; ask less")) << msg;
  EXPECT_EQ(gib_text(int64_t{3} << 29), "1.5 GiB");
}

TEST(MemoryCheck, ASparseFileLargerThanMemoryIsRefusedBeforeItIsRead) {
  testkit::TempDir dir("thaw-special");
  const std::string path = (dir.path() / "big.safetensors").string();
  const int64_t size = available_memory_bytes() * 2;
  {
    std::FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(::ftruncate(fileno(f), size), 0);  // a hole: no disk used
    std::fclose(f);
  }
  const std::string msg = user_error_of([&] { read_file_bytes(path); });
  EXPECT_TRUE(msg.starts_with("not enough memory for reading " + path + ": ")) << msg;
}

TEST(FreeSpace, MoreThanTheDiskHasIsOneLineNamingTheFolderAndBothSizes) {
  testkit::TempDir dir("thaw-space");
  const int64_t free = free_bytes(dir.path());
  ASSERT_GT(free, 0);
  check_free_space(dir.path(), 1 << 20, "a small file");  // no throw
  const std::string msg = user_error_of([&] { check_free_space(dir.path(), free * 2, "3 checkpoints"); });
  EXPECT_TRUE(msg.starts_with(dir.path().string() + " needs ")) << msg;
  EXPECT_NE(msg.find(" MiB for 3 checkpoints, "), std::string::npos) << msg;
  EXPECT_NE(msg.find(" MiB free; free some space or choose another --out"), std::string::npos) << msg;
}

}  // namespace
}  // namespace thaw
