// `thaw sweep`: the freeze-depth study (study/sweep.h). Its own flags are below; every other flag
// goes, as given, to `thaw train` for every arm (so each arm is an ordinary run folder that
// `thaw replay` can repeat).
#include <iostream>
#include <memory>
#include <sstream>

#include "cli/flag_range.h"
#include "cli/commands.h"
#include "core/error.h"
#include "stats/proportion.h"
#include "study/child_process.h"
#include "study/fold_sweep.h"
#include "study/sweep.h"
#include "study/sweep_report.h"

namespace thaw::cli {

namespace {

struct SweepArgs {
  std::string freeze_through, out, ci = "wilson", plot_script;
  bool all_blocks = false, overwrite = false, resume = false, keep_arm_checkpoints = false;
  RunConfig data;
  int bootstrap = 2000;
  uint64_t bootstrap_seed = 0;
  int64_t test_limit = 0, eval_batch_size = 64;
  int folds = 0;
  std::string select_arm = "accuracy";
};

// Flags the sweep reads and also hands to every arm.
constexpr const char* kForwarded[] = {"--data", "--arch", "--class-subset", "--val-fraction", "--test-fraction",
                                      "--seed", "--input-size", "--eval-batch-size", "--max-image-pixels",
                                      "--window", "--dicom-frame"};

void run_sweep_command(const SweepArgs& a, CLI::App& sub) {
  SweepConfig c;
  c.data = a.data;
  if (a.all_blocks == !a.freeze_through.empty()) {
    fail_user("--freeze-through or --all-blocks: give exactly one (e.g. --freeze-through none,mixed_5e,mixed_6h,mixed_7d)");
  }
  c.freeze_points = a.all_blocks ? all_freeze_points(a.data.arch) : parse_freeze_points(a.freeze_through, a.data.arch);
  if (a.out.empty()) fail_user("--out: a folder for the sweep is required");
  if (sub.get_option("--val-fraction")->count() > 0 && a.data.val_fraction == 0) {
    fail_user("--val-fraction 0: a sweep picks its best arm on held-out data; give a fraction in (0, 1)");
  }
  c.out = std::filesystem::absolute(a.out);
  c.overwrite = a.overwrite;
  c.resume = a.resume;
  c.keep_arm_checkpoints = a.keep_arm_checkpoints;
  c.folds = a.folds;
  select_arm_field(a.select_arm);  // checked before any arm runs
  c.select = a.select_arm;
  if (a.overwrite && a.resume) fail_user("--overwrite and --resume: give one of them");
  c.stats.ci = parse_ci_method(a.ci, "--ci");
  c.stats.bootstrap_replicates = a.bootstrap;
  if (a.bootstrap < 1) fail_user("--bootstrap: expected at least 1 replicate, got ", a.bootstrap);
  c.stats.seed = a.bootstrap_seed;
  c.test_limit = a.test_limit;
  c.eval_batch_size = a.eval_batch_size;
  if (c.eval_batch_size < 1) fail_user("--eval-batch-size: expected at least 1, got ", c.eval_batch_size);
  c.thaw = this_executable();
  c.plot_script = a.plot_script.empty() ? script_of_this_build("sweep-plots") : std::filesystem::path(a.plot_script);
  // Paths become absolute: the arms run from the same folder, but their records are read from anywhere.
  std::error_code ec;
  if (c.data.data != "fashion-mnist" && std::filesystem::exists(c.data.data, ec)) {
    c.data.data = std::filesystem::absolute(c.data.data).string();
  }
  for (const char* flag : kForwarded) {
    const CLI::Option* o = sub.get_option(flag);
    if (o->count() == 0) continue;
    c.train_args.push_back(flag);
    c.train_args.push_back(std::string(flag) == "--data" ? c.data.data : o->results().front());
  }
  const std::vector<std::string> extra = sub.remaining();
  c.train_args.insert(c.train_args.end(), extra.begin(), extra.end());
  for (const std::string& s : extra) {
    if (s == "--out" || s == "--output" || s == "--freeze-through" || s == "--overwrite") fail_user(s, ": the sweep sets it for each arm");
    if (s == "--fold") fail_user("--fold: the sweep runs every fold of --folds K; drop --fold");
    if (s == "--unfreeze") {
      fail_user("--unfreeze: give the schedule as an arm of --freeze-through, its points joined by '+' "
                "(e.g. --freeze-through mixed_7d,mixed_7d@0+mixed_6h@1)");
    }
  }
  std::ostringstream cmd;
  cmd << "thaw sweep";
  for (const auto& opt : sub.get_options()) {
    if (opt->count() == 0 || opt->get_name() == "--help") continue;
    cmd << ' ' << opt->get_name();
    if (opt->get_expected_min() == 0) continue;  // a flag: its name says it all
    for (const auto& r : opt->results()) cmd << ' ' << r;
  }
  for (const std::string& s : extra) cmd << ' ' << s;
  c.command_line = cmd.str();

  const nlohmann::json doc = c.folds > 0 ? run_fold_sweep(c, std::cerr) : run_sweep(c, std::cerr);
  std::cout << "\n" << sweep_table(doc) << "\nreport: " << (c.out / "report.html").string() << "\n";
  int failed = 0;
  for (const auto& arm : doc["arms"]) failed += arm.value("status", "") != "complete";
  if (failed == static_cast<int>(doc["arms"].size())) throw ExitStatus{2};  // nothing to compare
}

}  // namespace

void add_sweep(CLI::App& app) {
  auto a = std::make_shared<SweepArgs>();
  CLI::App* sub = app.add_subcommand(
      "sweep",
      "Train at several freeze points, evaluate each on validation and test, compare them (McNemar, Holm) and "
      "write sweep.json, sweep.csv and a report with plots. Flags not listed here go to thaw train");
  sub->allow_extras();
  sub->add_option("--freeze-through", a->freeze_through,
                  "Freeze points, comma separated (none, mixed_5e, ...); an arm BLOCK@EPOCH+BLOCK@EPOCH... trains with "
                  "that --unfreeze schedule");
  sub->add_flag("--all-blocks", a->all_blocks, "Every freeze point: none, then each block before the head");
  sub->add_option("--out", a->out, "Sweep folder: arms/<freeze point>/ run folders, sweep.json, report.html");
  sub->add_flag("--overwrite", a->overwrite, "Replace a sweep already in --out");
  sub->add_flag("--resume", a->resume, "Keep the arms a sweep in --out finished, run the others");
  sub->add_option("--data", a->data.data, "Dataset (as thaw train's --data)")->capture_default_str();
  sub->add_option("--arch,--model", a->data.arch, "inception_v4 or inception_v3")->capture_default_str();
  sub->add_option("--class-subset", a->data.class_subset, "Only these classes of the data: 0-4, 5,7,9 or names");
  sub->add_option("--val-fraction", a->data.val_fraction, "Validation carved out of train (needed where the data have no val split: IDX data, plain folders)")->check(in_range(fraction_range()));
  sub->add_option("--test-fraction", a->data.test_fraction, "Test carved out of train (image data without a test split)")->check(in_range(fraction_range()));
  sub->add_option("--select-arm", a->select_arm,
                  "The validation metric the best arm is chosen by: accuracy, balanced_accuracy or auc (macro)")
      ->capture_default_str();
  sub->add_option("--folds", a->folds,
                  "k-fold study: every arm trained K times, each fold of the image data in turn the test split "
                  "(group-safe, class-stratified, the same folds for every arm); results per fold and pooled")
      ->check(in_range(whole(2, 1000)));
  sub->add_option("--seed", a->data.seed, "Seed of the splits and of every arm's training")->capture_default_str()->check(in_range(seed_range()));
  sub->add_option("--input-size", a->data.input_size, "Input height and width")->capture_default_str()->check(in_range(input_size_range()));
  add_max_image_pixels_flag(sub, a->data.max_image_pixels);
  add_pixel_mapping_flags(sub, a->data.window, a->data.dicom_frame);
  sub->add_option("--eval-batch-size", a->eval_batch_size, "Images per evaluation batch")->capture_default_str()->check(in_range(whole(1, kMaxBatch)));
  sub->add_option("--ci", a->ci, "Interval for proportions: wilson or exact (Clopper-Pearson)")->capture_default_str();
  sub->add_option("--bootstrap", a->bootstrap, "Bootstrap replicates for the macro metrics")->capture_default_str()->check(in_range(whole(1, 1000000)));
  sub->add_option("--bootstrap-seed", a->bootstrap_seed, "Seed of the bootstrap")->capture_default_str()->check(in_range(seed_range()));
  sub->add_option("--test-limit", a->test_limit, "Evaluate on the first N test samples only")->check(in_range(whole(0, kMaxCount, "0: all")));
  sub->add_flag("--keep-arm-checkpoints", a->keep_arm_checkpoints,
                "Keep each finished arm's checkpoint-*.safetensors (by default removed: a finished arm never resumes)");
  sub->add_option("--plot-script", a->plot_script, "The plot script (default: scripts/sweep-plots of this build's tree)");
  sub->callback([a, sub] { run_sweep_command(*a, *sub); });
}

}  // namespace thaw::cli
