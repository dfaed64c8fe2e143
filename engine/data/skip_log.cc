#include "engine/data/skip_log.h"

#include <fstream>

#include "core/error.h"
#include "io/atomic_file.h"

namespace thaw {

SkipLog::SkipLog(std::filesystem::path file, std::ostream* log, bool resumed) : file_(std::move(file)), log_(log) {
  std::error_code ec;
  if (!resumed || file_.empty() || !std::filesystem::exists(file_, ec)) return;
  std::ifstream in(file_);
  if (!in) fail_user("cannot read ", file_.string(), " (the samples the run skipped before it stopped)");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    lines_.push_back(line);
    // "<split> sample <index>: <message>", as add() writes it.
    const size_t at = line.find(" sample ");
    const size_t colon = line.find(':', at == std::string::npos ? 0 : at);
    if (at == std::string::npos || colon == std::string::npos) continue;
    try {
      seen_.insert({line.substr(0, at), std::stoll(line.substr(at + 8, colon - at - 8))});
    } catch (const std::exception&) {
      // Not a line add() wrote: kept as it is, matching nothing.
    }
  }
}

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
