#pragma once
// The data options that decide which images a run's splits hold (--val-fraction, --test-fraction,
// --folds/--fold, --seed, --max-image-pixels), as a run, `thaw eval` of a run and a sweep's data
// check all open them: one place, so that they cannot disagree about a split.
#include "engine/run/run_config.h"
#include "io/datasets.h"

namespace thaw {

// UserErrors name the flag (a fold out of range, --fold without --folds, a folds count that does
// not fit an int).
DataOptions split_options(const RunConfig& c);

}  // namespace thaw
