#include "engine/skip_log.h"

#include "core/error.h"
#include "io/atomic_file.h"

namespace thaw {

void SkipLog::add(const std::string& split, int64_t index, const std::string& message) {
  if (!seen_.insert({split, index}).second) return;
  lines_.push_back(cat_str(split, " sample ", index, ": ", message));
  if (log_) *log_ << "thaw: skipped " << lines_.back() << "\n" << std::flush;
  if (file_.empty()) return;
  std::string text;
  for (const std::string& l : lines_) text += l + "\n";
  write_file_atomic(file_, text);
}

LoaderOptions reporting_skips(LoaderOptions options, SkipLog& log, const std::string& split) {
  options.on_skip = [&log, split](int64_t index, const std::string& message) { log.add(split, index, message); };
  return options;
}

}  // namespace thaw
