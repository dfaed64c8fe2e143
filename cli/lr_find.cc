// `thaw lr-find`: the LR range test. An ordinary recorded run (record.json, steps.jsonl: `thaw
// replay` repeats it) whose rate rises exponentially from --start-lr to --end-lr over --steps
// steps (the "range" schedule, engine/optim/lr_schedule.h) and stops once the smoothed loss
// diverges; then lr_find.json, lr_find.csv and lr_find.png in the run folder and the suggested
// rate (study/lr_find.h) on stdout. Every thaw train flag but those it sets is accepted.
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/flag_range.h"
#include "cli/parallel_flags.h"
#include "cli/run_file_flags.h"
#include "cli/run_flags.h"
#include "core/error.h"
#include "engine/run/rank_context.h"
#include "engine/run/run_training.h"
#include "io/atomic_file.h"
#include "study/child_process.h"
#include "study/lr_find.h"

namespace thaw::cli {

namespace {

struct LrFindArgs {
  double start_lr = 1e-7, end_lr = 10, stop_factor = 4;
  int64_t steps = 100;
  std::string plot_script;
};

// thaw train's flags that the range test sets itself.
constexpr const char* kSetHere[] = {"--lr", "--min-lr", "--lr-schedule", "--epochs", "--max-steps",
                                    "--select", "--patience", "--warmup-steps", "--warmup-start-factor"};

void report(const std::filesystem::path& out, const std::string& plot_script) {
  const LrFindResult r = read_lr_range(out);
  write_file_atomic(out / "lr_find.json", lr_find_json(r).dump(2) + "\n");
  write_file_atomic(out / "lr_find.csv", lr_find_csv(r));
  const std::filesystem::path script =
      plot_script.empty() ? script_of_this_build("lr-find-plot") : std::filesystem::path(plot_script);
  std::error_code ec;
  if (!script.empty() && std::filesystem::exists(script, ec)) {
    const ChildResult c = run_child({"/usr/bin/python3", script.string(), out.string()}, out / "lr_find_plot.log", false);
    if (c.exit_code != 0) {
      std::cerr << "thaw: warning: " << script.string() << " failed (see " << (out / "lr_find_plot.log").string()
                << "); no lr_find.png\n";
    }
  } else {
    std::cerr << "thaw: warning: no plot script (scripts/lr-find-plot); no lr_find.png\n";
  }
  const LrFindPoint& low = r.points[static_cast<size_t>(r.lowest)];
  std::cout << "range test: " << r.points.size() << " steps, lr " << r.points.front().lr << " to " << r.points.back().lr
            << "\nlowest smoothed loss " << low.smoothed << " at lr " << low.lr << " (step " << low.step << ")\n";
  if (r.descended) {
    const LrFindPoint& s = r.points[static_cast<size_t>(r.steepest)];
    std::cout << "suggested lr " << r.suggested_lr << " (steepest descent of the smoothed loss, step " << s.step
              << "); the lowest-loss rate / 10 is " << r.lowest_lr_over_10 << "\n";
  } else {
    std::cout << "the smoothed loss never fell: try a lower --start-lr; lowest-loss rate / 10 is "
              << r.lowest_lr_over_10 << "\n";
  }
  std::cout << "curve: " << (out / "lr_find.csv").string() << ", " << (out / "lr_find.png").string() << "\n";
}

}  // namespace

void add_lr_find(CLI::App& app) {
  auto a = std::make_shared<RunConfig>();
  a->shards = 0;  // thaw train's default rule
  auto f = std::make_shared<LrFindArgs>();
  auto parallel = std::make_shared<ParallelFlags>();
  CLI::App* sub = app.add_subcommand(
      "lr-find",
      "LR range test: train with the rate rising exponentially from --start-lr to --end-lr, stop when the loss "
      "diverges, plot loss against rate and suggest a rate. A recorded run (thaw replay repeats it); thaw "
      "train's flags apply");
  auto sources = std::make_shared<RunSources>();
  add_run_flags(sub, *a);
  add_run_source_flags(sub, *sources);
  sub->add_option("--start-lr", f->start_lr, "Rate of the first step")->capture_default_str()->check(in_range(real(0, 1000, true)));
  sub->add_option("--end-lr", f->end_lr, "Rate of the last step")->capture_default_str()->check(in_range(real(0, 1000, true)));
  sub->add_option("--steps", f->steps, "Steps of the test (fewer where the loss diverges first)")
      ->capture_default_str()->check(in_range(whole(2, kMaxEpochs)));
  sub->add_option("--stop-factor", f->stop_factor,
                  "Stop once the smoothed loss is above this factor times its lowest (0: run every step)")
      ->capture_default_str()->check(in_range(real(0, 1e6)));
  sub->add_option("--plot-script", f->plot_script, "The plot script (default: scripts/lr-find-plot of this build's tree)");
  add_parallel_flags(sub, *parallel);
  sub->callback([a, f, parallel, sources, sub] {
    const std::string command = given_command_line("thaw lr-find", *sub);
    apply_run_sources(*sources, *sub, *a);
    check_fold_flags(*sub, *a, !sources->from_record.empty());
    for (const char* flag : kSetHere) {
      if (sub->get_option(flag)->count() > 0) {
        fail_user(flag, ": thaw lr-find sets it (the rates come from --start-lr and --end-lr, the length from --steps)");
      }
    }
    if (!(f->start_lr < f->end_lr)) fail_user("--start-lr: expected a rate below --end-lr (", f->end_lr, "), got ", f->start_lr);
    if (f->stop_factor != 0 && f->stop_factor <= 1) fail_user("--stop-factor: expected a factor above 1 (or 0), got ", f->stop_factor);
    if (a->out.empty()) fail_user("--out: a run folder for the range test is required");
    a->lr_schedule = "range";
    a->lr = f->end_lr;
    a->min_lr = f->start_lr;
    a->max_steps = f->steps;
    a->epochs = f->steps;  // each epoch has at least one step: --max-steps ends the run
    a->stop_on_divergence = f->stop_factor;
    RankContext ranks(parallel->options());
    ranks.run([&] {
      const TrainingRequest request{*a, std::nullopt, 0, command};
      check_threads(a->threads);
      if (const int code = run_training(request, ranks)) throw ExitStatus{code};
      if (ranks.is_writer()) report(a->out, f->plot_script);
    });
  });
}

}  // namespace thaw::cli
