// `thaw stats`: eval.json and a summary table from a predictions file, optionally compared with a
// second model's predictions for the same samples.
#include <iostream>
#include <memory>
#include <optional>

#include "cli/flag_range.h"
#include "cli/commands.h"
#include "io/atomic_file.h"
#include "stats/comparison.h"
#include "stats/evaluation.h"
#include "stats/predictions.h"
#include "stats/summary_table.h"

namespace thaw::cli {

namespace {

struct StatsArgs {
  std::string predictions, out = "eval.json", compare, ci = "wilson", positive;
  std::optional<double> threshold;
  int bootstrap = 2000;
  uint64_t seed = 0;
};

void run_stats(const StatsArgs& a) {
  EvalOptions o;
  o.ci = parse_ci_method(a.ci, "--ci");
  o.bootstrap_replicates = a.bootstrap;
  o.seed = a.seed;
  o.positive = a.positive;
  o.threshold = a.threshold;
  const Predictions p = read_predictions(a.predictions);
  check_eval_options(p, o);
  std::optional<Predictions> b;
  if (!a.compare.empty()) {
    b = read_predictions(a.compare);
    match_samples(p, *b);  // a mismatch fails before the bootstrap's work
  }
  nlohmann::json eval = evaluate_predictions(p, o);
  if (b) eval["comparison"] = compare_predictions(p, *b, o);
  write_file_atomic(a.out, eval.dump(2) + "\n");
  std::cout << summary_table(eval) << "\nwrote " << a.out << "\n";
}

}  // namespace

void add_stats(CLI::App& app) {
  auto a = std::make_shared<StatsArgs>();
  CLI::App* sub = app.add_subcommand(
      "stats", "Metrics with confidence intervals from a predictions CSV (label,predicted,<one column per class>)");
  sub->add_option("predictions", a->predictions, "Predictions CSV (see docs/eval-format.md)")->required();
  sub->add_option("--out", a->out, "Where to write the evaluation (JSON)")->capture_default_str();
  sub->add_option("--ci", a->ci, "Interval for proportions: wilson or exact (Clopper-Pearson)")->capture_default_str();
  sub->add_option("--compare", a->compare, "A second model's predictions for the same samples: McNemar and DeLong tests");
  sub->add_option("--positive", a->positive, "Class for the binary view (sensitivity/specificity of that class)");
  sub->add_option("--threshold", a->threshold,
                  "With --positive: call a sample positive when p(positive) >= T (choose T on validation data)")->check(in_range(real(0, 1)));
  sub->add_option("--bootstrap", a->bootstrap, "Bootstrap replicates for the macro metrics")->capture_default_str()->check(in_range(whole(1, 1000000)));
  sub->add_option("--seed,--bootstrap-seed", a->seed, "Seed of the bootstrap resampling (--bootstrap-seed as in thaw eval)")->capture_default_str()->check(in_range(seed_range()));
  sub->callback([a] { run_stats(*a); });
}

}  // namespace thaw::cli
