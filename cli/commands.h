#pragma once
// Each subcommand registers its flags on the app and runs when selected. The command layer only
// parses and calls engine/ and io/.
#include <CLI/CLI.hpp>

namespace thaw::cli {

void add_inspect(CLI::App& app);
void add_predict(CLI::App& app);
void add_bench(CLI::App& app);
void add_train(CLI::App& app);
void add_data(CLI::App& app);
void add_stats(CLI::App& app);
void add_samplesize(CLI::App& app);
void add_replay(CLI::App& app);
void add_pack(CLI::App& app);  // cli/pack.cc
void add_eval(CLI::App& app);   // cli/eval.cc
void add_sweep(CLI::App& app);  // cli/sweep.cc
void add_bench_reduce(CLI::App& app);  // cli/bench_reduce.cc
void add_export(CLI::App& app);  // cli/export.cc
void add_lr_find(CLI::App& app);  // cli/lr_find.cc
void add_report(CLI::App& app);  // cli/report.cc

// Thrown by a subcommand that ran to its end but must exit non-zero (replay: the bits differ: 3).
struct ExitStatus {
  int code;
};

// Validators shared by subcommands.
void check_threads(int threads);  // sets the OpenMP thread count; 0 keeps the default

}  // namespace thaw::cli
