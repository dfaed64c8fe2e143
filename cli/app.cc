#include "cli/app.h"

#include "cli/commands.h"

namespace thaw::cli {

void add_commands(CLI::App& app) {
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("thaw ") + THAW_VERSION);
  add_inspect(app);
  add_predict(app);
  add_bench(app);
  add_train(app);
  add_data(app);
  add_stats(app);
  add_samplesize(app);
  add_replay(app);
  add_pack(app);
  add_eval(app);
  add_sweep(app);
  add_bench_reduce(app);
  add_export(app);
  add_lr_find(app);
  add_report(app);
}

}  // namespace thaw::cli
