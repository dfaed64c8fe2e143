#pragma once
// `thaw sweep`: the same training (data, seed, epochs, budget) at each freeze point, each arm a
// full run folder made by `thaw train` in a process of its own (SWEEP_DIR/arms/<freeze point>),
// then each arm evaluated on the validation and the test split (study/eval_files.h), compared
// with the best arm (by validation accuracy) by McNemar's exact test on the test samples, Holm-
// adjusted across the arms, and reported (study/sweep_report.h).
//
// SWEEP_DIR/sweep.json is rewritten, atomically, after every arm: a sweep that stops keeps every
// arm that finished, and `--resume` carries on from it. An arm that fails (its training or its
// evaluation) is marked failed with its error, and the others still run.
#include <cstdint>
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/run/run_config.h"
#include "stats/evaluation.h"

namespace thaw {

inline constexpr const char* kSweepFormat = "thaw-sweep";
inline constexpr int kSweepVersion = 1;

struct SweepConfig {
  std::vector<std::string> freeze_points;  // block names, or "none"
  std::filesystem::path out;
  bool overwrite = false, resume = false;
  // The data and network every arm uses (the sweep opens the test split itself).
  RunConfig data;
  // Flags for `thaw train`, the same for every arm (--freeze-through and --out are added per arm).
  std::vector<std::string> train_args;
  std::string command_line;
  EvalOptions stats;  // interval method and bootstrap of every evaluation
  int64_t eval_batch_size = 64;
  int64_t test_limit = 0;  // > 0: the first N test samples only
  std::filesystem::path plot_script;  // scripts/sweep-plots; empty: no plots
  std::filesystem::path thaw;         // the executable the arms run
  bool keep_arm_checkpoints = false;  // false: a finished arm's checkpoints go (study/arm_checkpoints.h)
  int folds = 0;  // > 0: a k-fold study (study/fold_sweep.h)
  std::string select = "accuracy";  // the validation metric the best arm is chosen by (select_arm_metric)
};

// --select-arm: accuracy, balanced_accuracy or auc (macro one-vs-rest), as the arms' "val" field it
// reads ("accuracy", "balanced_accuracy", "macro_auc"); anything else is a UserError naming the flag.
std::string select_arm_field(const std::string& metric);
// "validation accuracy", "validation balanced accuracy", "validation macro AUC" for a sweep document
// (older documents chose by accuracy).
std::string selection_words(const nlohmann::json& sweep);

// The figures a sweep keeps of one evaluation (eval.json): samples, accuracy, balanced accuracy,
// macro F1 and macro AUC, each as {estimate, lo, hi}.
nlohmann::json split_metrics(const nlohmann::json& eval);

// What sweep.json says of the sweep as a whole, before its arms: format, version, time, command,
// data, the arms' flags, `weights` (an absolute path, or null), interval method, test limit, select.
nlohmann::json sweep_header(const SweepConfig& c, const nlohmann::json& weights);

// Every freeze point of the architecture: "none", then each block but the head.
std::vector<std::string> all_freeze_points(const std::string& arch);

// A gradual-unfreezing arm, "mixed_7d@0+mixed_6h@2" (its --unfreeze schedule with '+' for ','):
// it trains with that schedule instead of one freeze point.
bool is_unfreeze_arm(const std::string& arm);
std::string unfreeze_spec(const std::string& arm);  // "mixed_7d@0,mixed_6h@2"

// Names checked against the architecture (unknown or repeated: UserError naming --freeze-through);
// an item with '@' is an unfreezing arm, checked as --unfreeze checks a schedule (but for the
// run's length) and written with the blocks' own names.
std::vector<std::string> parse_freeze_points(const std::string& list, const std::string& arch);

// Runs the arms (skipping, with --resume, those sweep.json already has as complete), evaluates
// them, writes sweep.json, sweep.csv, report.md and report.html. Returns sweep.json's document.
nlohmann::json run_sweep(const SweepConfig& c, std::ostream& log);

// The comparison part: for the document's complete arms, the best by the validation metric of its
// "select" (accuracy in older documents; ties:
// fewer trainable parameters) and McNemar's exact test of every other arm against it on the test
// predictions, with Holm's adjustment across them. Fills "best_arm" and each arm's "vs_best".
void compare_arms(nlohmann::json& sweep, const std::filesystem::path& dir);

}  // namespace thaw
