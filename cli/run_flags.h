#pragma once
// The flags of one training run, each filling its RunConfig field: `thaw train` registers them
// all, `thaw lr-find` too (and refuses those it sets itself). Parallelism and resume flags are
// separate (cli/parallel_flags.h, cli/train_control.h).
#include <string>

#include <CLI/CLI.hpp>

#include "engine/run/run_config.h"

namespace thaw::cli {

void add_run_flags(CLI::App* sub, RunConfig& a);

// `command` and every flag given with its values, as the run record keeps the command line.
std::string given_command_line(const std::string& command, const CLI::App& sub);

}  // namespace thaw::cli
