#pragma once
// A test split carved out of the training records of image data that has none (a folder of class
// folders, or a manifest without test rows): `--test-fraction F`, deterministic from the seed,
// never splitting a group, stratified by class as far as the groups allow. It is the validation
// carving of io/split.h run first and renamed test, so the groups are visited in the same order:
// test takes its share first, and `--val-fraction` then carves validation out of what is left.
#include <cstdint>

#include "io/image_manifest.h"

namespace thaw {

// Moves about fraction x (train records of each class) from Train to Test. fraction must be in
// (0, 1), and the manifest must have no test rows of its own (UserErrors naming --test-fraction).
void split_off_test(ImageManifest& m, double fraction, uint64_t seed);

}  // namespace thaw
