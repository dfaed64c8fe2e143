#include "core/memory.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace thaw {

int64_t available_memory_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  int64_t kib = 0;
  std::string unit;
  while (in >> key >> kib >> unit) {
    if (key == "MemAvailable:") return kib * 1024;
  }
  return static_cast<int64_t>(sysconf(_SC_PHYS_PAGES)) * static_cast<int64_t>(sysconf(_SC_PAGESIZE));
}

std::string gib_text(int64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f GiB", static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0));
  return buf;
}

void check_fits_in_memory(int64_t bytes, std::string_view what, std::string_view hint) {
  const int64_t available = available_memory_bytes();
  if (bytes <= available) return;
  fail_user("not enough memory for ", what, ": ", gib_text(bytes), " asked, ", gib_text(available), " available",
            hint);
}

}  // namespace thaw
