// `thaw report RUN_DIR --positive CLASS`: a finished run's validation pack (study/validation_report.h).
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/flag_range.h"
#include "core/error.h"
#include "stats/proportion.h"
#include "study/child_process.h"
#include "study/validation_report.h"

namespace thaw::cli {

namespace {

struct ReportArgs {
  std::string run, positive, intended_use, out, ci = "wilson", plot_script;
  int bins = 10, bootstrap = 2000;
  int64_t eval_batch_size = 64, test_limit = 0;
  bool pdf = false;
  std::vector<std::string> subgroups;
};

void run_report(const ReportArgs& a) {
  ValidationRequest r;
  r.run = a.run;
  r.positive = a.positive;
  r.intended_use = a.intended_use;
  r.out = a.out.empty() ? std::filesystem::path(a.run) / "validation" : std::filesystem::path(a.out);
  r.stats.ci = parse_ci_method(a.ci, "--ci");
  r.stats.bootstrap_replicates = a.bootstrap;
  r.bins = a.bins;
  r.subgroups = a.subgroups;
  r.eval_batch_size = a.eval_batch_size;
  r.test_limit = a.test_limit;
  r.plot_script = a.plot_script.empty() ? script_of_this_build("report-plots") : std::filesystem::path(a.plot_script);
  if (a.pdf) r.pdf_script = script_of_this_build("report-pdf");
  write_validation_report(r, std::cerr);
  std::cout << "report: " << (r.out / "validation.html").string() << (a.pdf ? " and validation.pdf" : "") << "\n";
}

}  // namespace

void add_report(CLI::App& app) {
  auto a = std::make_shared<ReportArgs>();
  CLI::App* sub = app.add_subcommand(
      "report",
      "A finished run's validation pack: intended use, data, sensitivity/specificity/PPV/NPV at an operating point "
      "chosen on validation, ROC and PR curves, calibration and provenance, as HTML (and PDF)");
  sub->add_option("RUN_DIR", a->run, "Run folder written by thaw train")->required();
  sub->add_option("--positive", a->positive, "The class the operating point is for (e.g. melanoma)")->required();
  sub->add_option("--intended-use", a->intended_use,
                  "YAML sidecar: intended_use, indication, population, sites, devices, reference_standard, "
                  "exclusions, notes");
  sub->add_option("--out", a->out, "The report's folder (default RUN_DIR/validation)");
  sub->add_option("--bins", a->bins, "Reliability bins (equal width)")->capture_default_str()->check(in_range(whole(2, 100)));
  sub->add_option("--ci", a->ci, "Interval for proportions: wilson or exact (Clopper-Pearson)")->capture_default_str();
  sub->add_option("--bootstrap", a->bootstrap, "Bootstrap replicates for balanced accuracy")->capture_default_str()->check(in_range(whole(1, 1000000)));
  sub->add_option("--eval-batch-size", a->eval_batch_size, "Images per evaluation batch, where the run is evaluated")
      ->capture_default_str()->check(in_range(whole(1, kMaxBatch)));
  sub->add_option("--test-limit", a->test_limit, "Evaluate the first N test samples only")->check(in_range(whole(0, kMaxCount, "0: all")));
  sub->add_option("--subgroups", a->subgroups,
                  "Columns of the run's CSV manifest (sex, site, ...): per level accuracy, sensitivity and specificity "
                  "with intervals, and a chi-square test of difference")
      ->delimiter(',');
  sub->add_flag("--pdf", a->pdf, "Also print the report to validation.pdf (Debian's headless chromium)");
  sub->add_option("--plot-script", a->plot_script, "The plot script (default: scripts/report-plots of this build's tree)");
  sub->callback([a] { run_report(*a); });
}

}  // namespace thaw::cli
