#include "io/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <streambuf>
#include <string>
#include <vector>

#include "core/error.h"

namespace thaw {
namespace {

[[noreturn]] void fail_write(const std::filesystem::path& path, int err) {
  fail_user("cannot write ", path.string(), ": ", std::strerror(err));
}

// Writes everything or returns the errno of the first failure (0 on success).
int write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return 0;
}

// An ostream buffer over a file descriptor that remembers the first OS error, so the message can
// say why (a plain ofstream only says that something failed).
class FdStreambuf : public std::streambuf {
 public:
  explicit FdStreambuf(int fd) : fd_(fd), buf_(1 << 20) { setp(buf_.data(), buf_.data() + buf_.size()); }
  int error() const { return error_; }

 protected:
  int_type overflow(int_type ch) override {
    if (flush_buffer() != 0) return traits_type::eof();
    if (!traits_type::eq_int_type(ch, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(ch);
      pbump(1);
    }
    return traits_type::not_eof(ch);
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    // Large blocks (tensor data) skip the copy into the buffer.
    if (n >= static_cast<std::streamsize>(buf_.size())) {
      if (flush_buffer() != 0) return 0;
      error_ = write_all(fd_, s, static_cast<size_t>(n));
      return error_ == 0 ? n : 0;
    }
    return std::streambuf::xsputn(s, n);
  }
  int sync() override { return flush_buffer() == 0 ? 0 : -1; }

 private:
  int flush_buffer() {
    if (error_ != 0) return error_;
    error_ = write_all(fd_, pbase(), static_cast<size_t>(pptr() - pbase()));
    setp(buf_.data(), buf_.data() + buf_.size());
    return error_;
  }

  int fd_;
  std::vector<char> buf_;
  int error_ = 0;
};

// Owns the temporary file until it has been renamed into place; removes it otherwise.
class TempFile {
 public:
  explicit TempFile(const std::filesystem::path& dest) : dest_(dest) {
    const std::filesystem::path dir = dest.has_parent_path() ? dest.parent_path() : std::filesystem::path(".");
    const std::string stem = cat_str(".", dest.filename().string(), ".tmp-", ::getpid(), "-");
    // O_EXCL makes the name ours; a leftover from a crashed run or a concurrent writer just
    // moves us to the next number.
    for (int i = 0; i < 1000; ++i) {
      path_ = dir / cat_str(stem, i);
      fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
      if (fd_ >= 0) return;
      if (errno != EEXIST) fail_write(dest_, errno);
    }
    fail_write(dest_, EEXIST);
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(path_.c_str());
  }

  int fd() const { return fd_; }

  void commit() {
    if (::fsync(fd_) != 0) fail_write(dest_, errno);
    const int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0) fail_write(dest_, errno);
    if (::rename(path_.c_str(), dest_.c_str()) != 0) fail_write(dest_, errno);
    committed_ = true;
    sync_directory();
  }

 private:
  // Makes the rename itself durable. Best effort: the data is already safe, and some file
  // systems refuse fsync on a directory.
  void sync_directory() const {
    const std::filesystem::path dir = dest_.has_parent_path() ? dest_.parent_path() : std::filesystem::path(".");
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return;
    ::fsync(dfd);
    ::close(dfd);
  }

  std::filesystem::path dest_;
  std::filesystem::path path_;
  int fd_ = -1;
  bool committed_ = false;
};

}  // namespace

void write_file_atomic(const std::filesystem::path& path, const std::function<void(std::ostream&)>& write) {
  TempFile tmp(path);
  FdStreambuf buf(tmp.fd());
  std::ostream os(&buf);
  write(os);
  os.flush();
  if (buf.error() != 0) fail_write(path, buf.error());
  if (!os) fail_internal("writing ", path.string(), ": stream failed without an OS error");
  tmp.commit();
}

void write_file_atomic(const std::filesystem::path& path, std::string_view bytes) {
  TempFile tmp(path);
  if (const int err = write_all(tmp.fd(), bytes.data(), bytes.size()); err != 0) fail_write(path, err);
  tmp.commit();
}

}  // namespace thaw
