#include "study/arm_checkpoints.h"

#include <algorithm>
#include <cstdio>
#include <vector>

namespace thaw {

namespace fs = std::filesystem;

uintmax_t remove_arm_checkpoints(const fs::path& run_dir, const std::string& arm, std::ostream& log) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(run_dir, ec)) {
    const std::string name = e.path().filename().string();
    const std::string suffix = ".safetensors";
    if (name.rfind("checkpoint-", 0) == 0 && name.size() > suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0 && e.is_regular_file()) {
      files.push_back(e.path());
    }
  }
  std::sort(files.begin(), files.end());
  uintmax_t freed = 0;
  int removed = 0;
  for (const fs::path& f : files) {
    const uintmax_t size = fs::file_size(f, ec);
    if (fs::remove(f, ec) && !ec) {
      freed += size;
      ++removed;
    } else {
      log << "thaw: warning: sweep arm " << arm << ": cannot remove " << f.string() << ": " << ec.message() << "\n";
    }
  }
  if (removed > 0) {
    char mb[32];
    std::snprintf(mb, sizeof mb, "%.0f", static_cast<double>(freed) / 1e6);
    log << "thaw: sweep arm " << arm << " finished: removed its " << removed << " checkpoint" << (removed == 1 ? "" : "s")
        << " (" << mb << " MB; weights.safetensors stays for replay, eval and export; --keep-arm-checkpoints keeps "
        << "them)\n";
  }
  return freed;
}

}  // namespace thaw
