#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "engine/replay.h"

namespace thaw::cli {

namespace {

struct ReplayArgs {
  std::string dir;
  int64_t steps = 0;
  int threads = 0;
};

}  // namespace

void add_replay(CLI::App& app) {
  auto a = std::make_shared<ReplayArgs>();
  CLI::App* sub = app.add_subcommand(
      "replay", "Re-run a recorded training run and compare every step bit for bit (exit 0 only when identical)");
  sub->add_option("RUN_DIR", a->dir, "Run folder written by thaw train (record.json, steps.jsonl, samples.csv)")
      ->required();
  sub->add_option("--steps", a->steps, "Replay only the first K steps (default: all recorded)");
  sub->add_option("--threads", a->threads, "CPU threads (0: all cores); never changes the bits")
      ->capture_default_str();
  sub->callback([a] {
    check_threads(a->threads);
    const ReplayOutcome r = replay_run({a->dir, a->steps}, std::cout, std::cerr);
    std::cout << std::flush;
    if (!r.identical) throw ExitStatus{3};
  });
}

}  // namespace thaw::cli
