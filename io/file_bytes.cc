#include "io/file_bytes.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"
#include "core/memory.h"

namespace thaw {
namespace {

[[noreturn]] void fail_read(const std::filesystem::path& path, int err) {
  fail_user("cannot read ", path.string(), ": ", std::strerror(err));
}

// Closes the descriptor on every path out of read_file_bytes.
struct FdCloser {
  int fd;
  ~FdCloser() { ::close(fd); }
};

}  // namespace

const char* special_file_kind(unsigned mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a pipe";
  if (S_ISSOCK(mode)) return "a socket";
  return "a special file";
}

void require_regular_file(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) fail_read(path, errno);
  if (!S_ISREG(st.st_mode)) fail_user("cannot read ", path.string(), ": ", special_file_kind(st.st_mode), ", not a file");
}

std::string read_file_bytes(const std::filesystem::path& path) {
  // O_NONBLOCK: opening a pipe would otherwise wait for a writer before it could be refused below;
  // regular files ignore the flag.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) fail_read(path, errno);
  FdCloser closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) fail_read(path, errno);
  if (S_ISDIR(st.st_mode)) fail_read(path, EISDIR);
  // A device or a pipe has no size to check against memory (/dev/zero never ends).
  if (!S_ISREG(st.st_mode)) fail_user("cannot read ", path.string(), ": ", special_file_kind(st.st_mode), ", not a file");
  check_fits_in_memory(st.st_size, cat_str("reading ", path.string()));
  std::string bytes;
  bytes.resize(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (true) {
    if (done == bytes.size()) bytes.resize(bytes.size() + 65536);  // file grew, or size unknown
    const ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_read(path, errno);
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  bytes.resize(done);
  return bytes;
}

std::string read_file_bytes(const std::filesystem::path& path, std::string_view missing) {
  try {
    return read_file_bytes(path);
  } catch (const UserError&) {
    fail_user("cannot read ", path.string(), ": ", missing);
  }
}

std::string read_file_or_empty(const std::filesystem::path& path) {
  try {
    return read_file_bytes(path);
  } catch (const UserError&) {
    return {};
  }
}

}  // namespace thaw
