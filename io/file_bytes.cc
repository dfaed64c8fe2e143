#include "io/file_bytes.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"

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

std::string read_file_bytes(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail_read(path, errno);
  FdCloser closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) fail_read(path, errno);
  if (S_ISDIR(st.st_mode)) fail_read(path, EISDIR);
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
