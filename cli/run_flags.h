#pragma once
// The flags of one training run, each filling its RunConfig field: `thaw train` registers them
// all, `thaw lr-find` too (and refuses those it sets itself). Parallelism and resume flags are
// separate (cli/parallel_flags.h, cli/train_control.h).
#include <string>

#include <CLI/CLI.hpp>

#include "engine/run/run_config.h"

namespace thaw::cli {

void add_run_flags(CLI::App* sub, RunConfig& a);

// --folds and --fold come together (from the command line or a --config file; a record given by
// --from-record has both): one without the other is a UserError naming it.
void check_fold_flags(const CLI::App& sub, const RunConfig& a, bool from_record);

// `command` and every flag given with its values, as the run record keeps the command line.
std::string given_command_line(const std::string& command, const CLI::App& sub);

}  // namespace thaw::cli
