#pragma once
// The whole command line: every subcommand on one app. main() parses with it, and the flag tests
// (tests/cli/flag_ranges_test.cc) walk the same definition, so a new flag is tested by construction.
#include <CLI/CLI.hpp>

namespace thaw::cli {

void add_commands(CLI::App& app);

}  // namespace thaw::cli
