#include <memory>

#include "cli/flag_range.h"
#include "cli/commands.h"
#include "cli/parallel_flags.h"
#include "cli/run_file_flags.h"
#include "cli/run_flags.h"
#include "cli/train_control.h"
#include "core/error.h"
#include "engine/run/rank_context.h"
#include "engine/run/run_config.h"
#include "engine/run/run_training.h"

namespace thaw::cli {

void add_train(CLI::App& app) {
  auto a = std::make_shared<RunConfig>();
  a->shards = 0;  // the default rule (engine/parallel/shards.h); RunConfig's own default is for old records
  auto parallel = std::make_shared<ParallelFlags>();
  auto control = std::make_shared<TrainControl>();
  CLI::App* sub = app.add_subcommand("train", "Fine-tune on a dataset, freezing the front of the network");
  auto sources = std::make_shared<RunSources>();
  add_run_flags(sub, *a);
  add_run_source_flags(sub, *sources);
  add_parallel_flags(sub, *parallel);
  add_train_control_flags(sub, *a, *control);
  sub->callback([a, parallel, control, sources, sub] {
    // What was typed, before a --config file or a record fills in the rest.
    const std::string command = given_command_line("thaw train", *sub);
    if ((!sources->config.empty() || !sources->from_record.empty()) && sub->get_option("--resume")->count() > 0) {
      fail_user(sources->config.empty() ? "--from-record" : "--config",
                " and --resume: a resumed run takes every option from its own record");
    }
    apply_run_sources(*sources, *sub, *a);
    check_fold_flags(*sub, *a, !sources->from_record.empty());
    RankContext ranks(parallel->options());
    ranks.run([&] {
      // The flags fill a RunConfig: the run record keeps it, and `thaw replay` sets the run up from it.
      const TrainingRequest request{*a, open_resume_flags(*control, *a), control->stop_at_step, command};
      check_threads(request.resume ? request.resume->config.threads : a->threads);
      if (const int code = run_training(request, ranks)) throw ExitStatus{code};
    });
  });
}

}  // namespace thaw::cli
