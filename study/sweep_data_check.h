#pragma once
// What a sweep checks about its data before the first arm trains: every arm would meet the same
// problem, one after the other, and a sweep is long. Each problem is one UserError line naming the
// data (or the file) and what was expected:
// - a validation and a test split (the best arm is chosen on one, reported on the other); a data
//   set without them is told which of --val-fraction and --test-fraction to give, both at once;
// - at least two classes to tell apart;
// - a training split of at least one batch (--batch-size, --train-limit from the arms' flags);
// - image files that start as a JPEG, PNG, TIFF or DICOM file does (unless the arms skip bad images).
// Files in a class folder that are not named as images are left out, as thaw train does; they are
// said on `log` in one warning line.
#include <ostream>
#include <string>
#include <vector>

#include "engine/run/run_config.h"

namespace thaw {

// `data` holds the sweep's data flags; `train_args` the flags every arm gets.
void check_sweep_data(const RunConfig& data, const std::vector<std::string>& train_args, std::ostream& log);

// The value of `flag` among the arms' flags ("--flag value" or "--flag=value"); empty if absent.
std::string train_arg(const std::vector<std::string>& train_args, const std::string& flag);

}  // namespace thaw
