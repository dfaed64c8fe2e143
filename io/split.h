#pragma once
// A validation split carved out of the training records, deterministic from the seed, that never
// puts one group in two splits and keeps each class's share as close to the fraction as the groups
// allow.
//
// How: each group gets a random rank from CounterRng(seed, Split) at a position derived from the
// group's name (XXH3), so a group's rank does not depend on the order of the rows or on the other
// groups. Groups are visited in rank order; a group goes to validation when that brings the
// per-class validation counts closer (in summed absolute difference) to round(fraction * count of
// the class). With one image per group this gives exactly those counts.
#include <cstdint>
#include <string>
#include <vector>

#include "io/image_manifest.h"

namespace thaw {

// Moves records from Train to Val. fraction must be in (0, 1) (UserError naming --val-fraction);
// a manifest that already has Val records is a UserError too (its split is the user's).
void split_off_validation(ImageManifest& m, double fraction, uint64_t seed);

struct GroupCrossing {
  std::string group;
  std::vector<DataSplit> splits;  // the distinct splits it appears in, in Train, Val, Test order
  int64_t records = 0;
};

// Named groups whose records are in more than one split.
std::vector<GroupCrossing> groups_crossing_splits(const ImageManifest& m);

}  // namespace thaw
