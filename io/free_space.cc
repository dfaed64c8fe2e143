#include "io/free_space.h"

#include <sys/statvfs.h>

#include "core/error.h"

namespace thaw {

int64_t free_bytes(const std::filesystem::path& dir) {
  struct statvfs s {};
  if (::statvfs(dir.c_str(), &s) != 0) return -1;
  return static_cast<int64_t>(s.f_bavail) * static_cast<int64_t>(s.f_frsize);
}

void check_free_space(const std::filesystem::path& dir, int64_t bytes, std::string_view what) {
  const int64_t free = free_bytes(dir);
  if (free < 0 || bytes <= free) return;
  fail_user(dir.string(), " needs ", (bytes + (1 << 20) - 1) >> 20, " MiB for ", what, ", ", free >> 20,
            " MiB free; free some space or choose another --out");
}

}  // namespace thaw
