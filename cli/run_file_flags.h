#pragma once
// A run's options from files: `--config run.yaml|run.json` (keys are the flags' names without the
// dashes, `batch_size` or `batch-size`; values as on the command line, lists for list flags) and
// `--from-record RUN_DIR` (every option of a recorded run). Precedence: the command line, then the
// config file, then the record. The run then records the options it resolved to, like any run; its
// command line is what was typed.
#include <string>

#include <CLI/CLI.hpp>

#include "engine/run/run_config.h"

namespace thaw::cli {

struct RunSources {
  std::string config, from_record;
};

void add_run_source_flags(CLI::App* sub, RunSources& s);

// After parsing, before anything else reads `a`. UserErrors name the file (and the key): an unknown
// key, a value the flag refuses, a record that cannot be read; with --from-record a new --out is
// required.
void apply_run_sources(const RunSources& s, CLI::App& sub, RunConfig& a);

}  // namespace thaw::cli
