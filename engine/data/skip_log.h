#pragma once
// The images a run left out under `--on-bad-image skip`: each is said once on the log as it is
// met ("thaw: skipped train sample 17: data/a/x.jpg: corrupt or truncated JPEG ..."), and the
// whole list is kept in the run folder's skipped.txt (one line each, rewritten atomically when a
// new one is added), so that nothing is dropped silently.
#include <cstdint>
#include <filesystem>
#include <ostream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "engine/data/loader.h"

namespace thaw {

class SkipLog {
 public:
  // `file` empty: nothing is written to disk; `log` null: nothing is said. `resumed`: the run goes
  // on from a checkpoint, and the samples its first part skipped (the lines `file` holds) stay
  // listed, and are not listed twice when they are met again.
  SkipLog(std::filesystem::path file, std::ostream* log, bool resumed = false);

  // `split` names the data ("train", "val"); a sample already listed is not listed again (a bad
  // file fails in every epoch).
  void add(const std::string& split, int64_t index, const std::string& message);

  const std::vector<std::string>& lines() const { return lines_; }

 private:
  std::filesystem::path file_;
  std::ostream* log_;
  std::set<std::pair<std::string, int64_t>> seen_;
  std::vector<std::string> lines_;
};

// `options` with its skipped samples going to `log` under the name `split`.
LoaderOptions reporting_skips(LoaderOptions options, SkipLog& log, const std::string& split);

}  // namespace thaw
