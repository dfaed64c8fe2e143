#pragma once
// Replaying a recorded run: compare the environment, verify the inputs, re-run from the record and
// compare every step line.
#include <cstdint>
#include <filesystem>
#include <ostream>

namespace thaw {

class RankContext;

struct ReplayOptions {
  std::filesystem::path dir;  // the run folder
  int64_t steps = 0;          // > 0: replay only the first `steps` steps
  RankContext* ranks = nullptr;  // the ranks that re-run it (any N dividing the recorded V); null: one
};

struct ReplayOutcome {
  bool identical = false;
  int64_t steps_compared = 0;  // steps replayed and found equal
};

// Prints to `out`: the environment differences (those that can change bits first; the thread count
// is said not to), the inputs checked, then "identical: N steps" or the first differing step with
// each differing field's recorded and new value. Progress of the re-run goes to `log`.
// A record that cannot be replayed (unreadable, newer format, changed data or initial weights,
// --steps beyond the record) is a UserError naming the file or sample.
ReplayOutcome replay_run(const ReplayOptions& options, std::ostream& out, std::ostream& log);

}  // namespace thaw
