#include <memory>

#include "cli/flag_range.h"
#include "cli/commands.h"
#include "cli/parallel_flags.h"
#include "cli/run_flags.h"
#include "cli/train_control.h"
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
  add_run_flags(sub, *a);
  add_parallel_flags(sub, *parallel);
  add_train_control_flags(sub, *a, *control);
  sub->callback([a, parallel, control, sub] {
    RankContext ranks(parallel->options());
    ranks.run([&] {
      // The flags fill a RunConfig: the run record keeps it, and `thaw replay` sets the run up from it.
      const TrainingRequest request{*a, open_resume_flags(*control, *a), control->stop_at_step,
                                     given_command_line("thaw train", *sub)};
      check_threads(request.resume ? request.resume->config.threads : a->threads);
      if (const int code = run_training(request, ranks)) throw ExitStatus{code};
    });
  });
}

}  // namespace thaw::cli
