#include "io/temp_leftovers.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <string>

namespace thaw {
namespace {

bool digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

pid_t atomic_temp_writer(std::string_view name) {
  if (name.size() < 2 || name[0] != '.') return 0;
  const size_t tmp = name.rfind(".tmp-");
  if (tmp == std::string_view::npos || tmp < 2) return 0;
  const std::string_view tail = name.substr(tmp + 5);  // "<pid>-<n>"
  const size_t dash = tail.find('-');
  if (dash == std::string_view::npos || !digits(tail.substr(0, dash)) || !digits(tail.substr(dash + 1))) return 0;
  long pid = 0;
  const auto [end, ec] = std::from_chars(tail.data(), tail.data() + dash, pid);
  if (ec != std::errc{} || pid <= 0) return 0;
  return static_cast<pid_t>(pid);
}

RemovedLeftovers remove_dead_temporaries(const std::filesystem::path& dir) {
  RemovedLeftovers out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (!entry.is_regular_file(ec)) continue;
    const pid_t writer = atomic_temp_writer(entry.path().filename().string());
    if (writer == 0) continue;
    // kill(pid, 0) probes without signalling; ESRCH: no such process. Our own pid in a name is a
    // process of another pid namespace (a scheduler's earlier job): the caller writes nothing yet.
    // A pid reused by an unrelated live process keeps the file: better kept than a live write removed.
    const bool dead = writer == ::getpid() || (::kill(writer, 0) != 0 && errno == ESRCH);
    if (!dead) continue;
    std::error_code size_ec;
    const uintmax_t size = entry.file_size(size_ec);
    if (std::filesystem::remove(entry.path(), ec)) {
      out.files.push_back(entry.path());
      out.bytes += size_ec ? 0 : size;
    }
  }
  return out;
}

}  // namespace thaw
