#include "io/atomic_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>

#include "tests/io/io_test_support.h"

namespace thaw {
namespace {

using ::testing::HasSubstr;
using testing::ScratchDir;
using testing::slurp;
using testing::spit;
using testing::user_error_of;

TEST(AtomicFile, WritesAndReplacesContents) {
  ScratchDir dir;
  const auto path = dir / "a.bin";
  write_file_atomic(path, std::string_view("first"));
  EXPECT_EQ(slurp(path), "first");
  write_file_atomic(path, [](std::ostream& os) { os << "second" << 42; });
  EXPECT_EQ(slurp(path), "second42");
  EXPECT_EQ(dir.file_count(), 1u);  // no temporary left behind
}

TEST(AtomicFile, StreamsMoreThanOneBufferExactly) {
  ScratchDir dir;
  const auto path = dir / "big.bin";
  std::string expected;
  for (int i = 0; i < 3 << 20; ++i) expected += static_cast<char>((i * 7) & 0xff);
  // Mixed small and large writes cross the internal buffer boundary both ways.
  write_file_atomic(path, [&](std::ostream& os) {
    os.write(expected.data(), 5);
    os.write(expected.data() + 5, (2 << 20) - 5);
    for (size_t i = 2 << 20; i < expected.size(); ++i) os.put(expected[i]);
  });
  EXPECT_EQ(slurp(path), expected);
}

TEST(AtomicFile, ThrowingWriterLeavesDestinationUntouched) {
  ScratchDir dir;
  const auto path = dir / "keep.bin";
  spit(path, "original");
  EXPECT_THROW(write_file_atomic(path,
                                 [](std::ostream& os) {
                                   os << std::string(3 << 20, 'x');  // some of it already on disk
                                   throw std::runtime_error("writer failed");
                                 }),
               std::runtime_error);
  EXPECT_EQ(slurp(path), "original");
  EXPECT_EQ(dir.file_count(), 1u);
}

TEST(AtomicFile, ThrowingWriterCreatesNothing) {
  ScratchDir dir;
  const auto path = dir / "new.bin";
  EXPECT_THROW(write_file_atomic(path, [](std::ostream&) { throw UserError("stop"); }), UserError);
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_EQ(dir.file_count(), 0u);
}

TEST(AtomicFile, MissingDirectoryNamesPathAndReason) {
  ScratchDir dir;
  const auto path = dir / "no_such_dir" / "w.safetensors";
  const std::string msg = user_error_of([&] { write_file_atomic(path, std::string_view("x")); });
  EXPECT_EQ(msg, "cannot write " + path.string() + ": No such file or directory");
}

TEST(AtomicFile, DestinationThatIsADirectoryFailsAndCleansUp) {
  ScratchDir dir;
  const auto path = dir / "sub";
  std::filesystem::create_directory(path);
  const std::string msg = user_error_of([&] { write_file_atomic(path, std::string_view("x")); });
  EXPECT_THAT(msg, HasSubstr("cannot write " + path.string() + ": "));
  EXPECT_TRUE(std::filesystem::is_directory(path));
  EXPECT_EQ(dir.file_count(), 1u);
}

TEST(AtomicFile, RelativePathWritesIntoCurrentDirectory) {
  ScratchDir dir;
  const auto old = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());
  write_file_atomic("rel.txt", std::string_view("rel"));
  std::filesystem::current_path(old);
  EXPECT_EQ(slurp(dir / "rel.txt"), "rel");
}

}  // namespace
}  // namespace thaw
