#include "io/idx.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/error.h"
#include "core/memory.h"
#include "io/file_bytes.h"

namespace thaw {
namespace {

constexpr uint8_t kTypeUnsignedByte = 0x08;

uint32_t load_be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

// Closes the gzFile on every path out of read_maybe_gzip.
struct GzCloser {
  gzFile f;
  ~GzCloser() {
    if (f) gzclose_r(f);
  }
};

// Checks the magic and returns the dimensions; `data` is what follows them.
std::vector<int64_t> parse_header(const std::vector<uint8_t>& bytes, const std::filesystem::path& path, uint8_t ndim,
                                  const char* kind, const uint8_t** data) {
  const uint32_t expected = (uint32_t{kTypeUnsignedByte} << 8) | ndim;
  if (bytes.size() < 4)
    fail_user(path.string(), ": file is ", bytes.size(), " bytes, too short for an IDX header (expected ", kind, ")");
  const uint32_t magic = load_be32(bytes.data());
  if (magic != expected) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "bad magic 0x%08x, expected 0x%08x", magic, expected);
    fail_user(path.string(), ": ", buf, " (IDX ", kind, ")");
  }
  const size_t header = 4 + 4 * size_t{ndim};
  if (bytes.size() < header)
    fail_user(path.string(), ": truncated IDX header: ", bytes.size(), " bytes, expected at least ", header);
  std::vector<int64_t> dims;
  for (uint8_t d = 0; d < ndim; ++d) dims.push_back(load_be32(bytes.data() + 4 + 4 * d));
  *data = bytes.data() + header;
  return dims;
}

void check_data_size(const std::vector<uint8_t>& bytes, const std::filesystem::path& path, size_t header, uint64_t need,
                     const std::string& what) {
  const uint64_t have = bytes.size() - header;
  if (have != need)
    fail_user(path.string(), ": ", have < need ? "truncated: " : "", have, " bytes of data, expected ", need, " for ", what);
}

}  // namespace

std::vector<uint8_t> read_maybe_gzip(const std::filesystem::path& path) {
  require_regular_file(path);
  // A few KiB of gzip can expand to any size: what it expands to is bounded by memory as it comes.
  const int64_t available = available_memory_bytes();
  errno = 0;
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) fail_user("cannot read ", path.string(), ": ", errno ? std::strerror(errno) : "out of memory");
  GzCloser closer{f};
  gzbuffer(f, 1 << 17);
  std::vector<uint8_t> out;
  // Reads grow from 64 KiB, doubling to 16 MiB: small files stay cheap, large ones take few reads.
  unsigned chunk = 1 << 16;
  for (;; chunk = std::min(chunk * 2, 1u << 24)) {
    const size_t at = out.size();
    if (static_cast<int64_t>(at + chunk) > available) {
      fail_user("not enough memory for ", path.string(), ": it expands to more than the ", gib_text(available),
                " available");
    }
    out.resize(at + chunk);
    const int n = gzread(f, out.data() + at, chunk);
    if (n < 0) {
      int code = 0;
      const char* msg = gzerror(f, &code);
      fail_user(path.string(), ": ", code == Z_ERRNO ? std::strerror(errno) : cat_str("corrupt or truncated gzip data (", msg, ")"));
    }
    out.resize(at + static_cast<size_t>(n));
    if (n == 0) break;
  }
  // zlib reports a gzip stream cut short only here, not through gzread's result.
  int code = 0;
  gzerror(f, &code);
  if (code == Z_BUF_ERROR) fail_user(path.string(), ": corrupt or truncated gzip data (unexpected end of file)");
  return out;
}

IdxImages read_idx_images(const std::filesystem::path& path) {
  const std::vector<uint8_t> bytes = read_maybe_gzip(path);
  const uint8_t* data = nullptr;
  const auto dims = parse_header(bytes, path, 3, "uint8 images", &data);
  IdxImages im{dims[0], dims[1], dims[2], {}};
  if (im.rows < 1 || im.cols < 1) fail_user(path.string(), ": images of ", im.rows, "x", im.cols, " pixels (IDX uint8 images)");
  // Three 32-bit sizes can multiply past 2^64 and wrap to the file's real length: refused first.
  uint64_t need = 0;
  if (__builtin_mul_overflow(static_cast<uint64_t>(im.count) * static_cast<uint64_t>(im.rows),
                             static_cast<uint64_t>(im.cols), &need)) {
    fail_user(path.string(), ": ", im.count, " images of ", im.rows, "x", im.cols, " is more than any file holds");
  }
  check_data_size(bytes, path, 16, need, cat_str(im.count, " images of ", im.rows, "x", im.cols));
  im.pixels.assign(data, data + need);
  return im;
}

std::vector<uint8_t> read_idx_labels(const std::filesystem::path& path) {
  const std::vector<uint8_t> bytes = read_maybe_gzip(path);
  const uint8_t* data = nullptr;
  const auto dims = parse_header(bytes, path, 1, "uint8 labels", &data);
  check_data_size(bytes, path, 8, static_cast<uint64_t>(dims[0]), cat_str(dims[0], " labels"));
  return {data, data + dims[0]};
}

IdxLabelledImages read_idx_labelled(const std::filesystem::path& images, const std::filesystem::path& labels) {
  IdxLabelledImages out{read_idx_images(images), read_idx_labels(labels)};
  if (static_cast<int64_t>(out.labels.size()) != out.images.count)
    fail_user(labels.string(), ": ", out.labels.size(), " labels, but ", images.string(), " has ", out.images.count, " images");
  return out;
}

}  // namespace thaw
