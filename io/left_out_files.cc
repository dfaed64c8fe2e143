#include "io/left_out_files.h"

#include <algorithm>

#include "io/image_manifest.h"

namespace thaw {

namespace {

namespace fs = std::filesystem;

constexpr size_t kNamed = 5;

}  // namespace

std::vector<std::string> left_out_files(const std::string& data_spec) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::is_directory(data_spec, ec)) return out;
  for (const fs::directory_entry& c : fs::directory_iterator(data_spec, ec)) {
    if (!c.is_directory() || is_hidden(c.path())) continue;
    for (auto it = fs::recursive_directory_iterator(c.path(), ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (is_hidden(it->path())) {
        if (it->is_directory()) it.disable_recursion_pending();
        continue;
      }
      if (it->is_regular_file() && !is_image_name(it->path())) out.push_back(it->path().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

void warn_left_out_files(const std::string& data_spec, std::ostream& log) {
  const std::vector<std::string> files = left_out_files(data_spec);
  if (files.empty()) return;
  log << "thaw: warning: " << files.size() << " file" << (files.size() == 1 ? "" : "s") << " in the class folders of "
      << data_spec << " " << (files.size() == 1 ? "is" : "are") << " not " << kImageNames << " and left out: ";
  for (size_t i = 0; i < files.size() && i < kNamed; ++i) log << (i ? ", " : "") << files[i];
  if (files.size() > kNamed) log << " and " << files.size() - kNamed << " more";
  log << "\n";
}

}  // namespace thaw
