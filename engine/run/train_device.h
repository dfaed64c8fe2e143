#pragma once
// `thaw train --device cpu|cuda` (RunConfig::device) into the TrainConfig: the flag checked
// before any file is opened (a build without CUDA or a machine without a usable GPU is one
// UserError naming --device cuda), then applied once the rest of the setup is resolved.
#include <ostream>

#include "engine/run/run_config.h"
#include "engine/train/trainer.h"

namespace thaw {

// UserError for anything but cpu or cuda, for cuda where no GPU can run it, and for a --precision
// other than fp32, or tf32 with cuda.
void check_train_device(const RunConfig& c);
// Sets TrainConfig::cuda. The feature cache is not on the GPU path: with cuda it is turned off,
// with a one-line note on `note` where it would have been used.
void apply_train_device(TrainConfig& cfg, const RunConfig& c, std::ostream& note);

}  // namespace thaw
