#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "cli/flag_range.h"
#include "cli/commands.h"
#include "cli/parallel_flags.h"
#include "engine/run/rank_context.h"
#include "engine/run/replay.h"

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
  auto parallel = std::make_shared<ParallelFlags>();
  CLI::App* sub = app.add_subcommand(
      "replay", "Re-run a recorded training run and compare every step bit for bit (exit 0 only when identical)");
  sub->add_option("RUN_DIR", a->dir, "Run folder written by thaw train (record.json, steps.jsonl, samples.csv)")
      ->required();
  sub->add_option("--steps", a->steps, "Replay only the first K steps (default: all recorded)")->check(in_range(whole(0, kMaxCount, "0: all recorded")));
  sub->add_option("--threads", a->threads, "CPU threads (0: all cores); never changes the bits")
      ->capture_default_str()->check(in_range(threads_range()));
  add_parallel_flags(sub, *parallel);
  sub->callback([a, parallel] {
    check_threads(a->threads);
    RankContext ranks(parallel->options());
    bool identical = false;
    ranks.run([&] {
      ranks.agree_on(std::filesystem::absolute(a->dir).string() + " " + std::to_string(a->steps) + " " +
                     std::string(gpu_transport_name(ranks.gpu_transport())));
      std::ostream quiet(nullptr);  // the other MPI processes replay in silence
      const bool writer = ranks.is_writer();
      identical = replay_run({a->dir, a->steps, &ranks}, writer ? std::cout : quiet, writer ? std::cerr : quiet).identical;
    });
    std::cout << std::flush;
    if (!identical) throw ExitStatus{3};
  });
}

}  // namespace thaw::cli
