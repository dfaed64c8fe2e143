#pragma once
// k-fold cross-validation folds of image data (`--folds K --fold I`): every record of the data,
// whatever split its manifest row names, goes to one of K folds; fold I is the test split and the
// others train (`--val-fraction` then carves validation out of them).
//
// The folds never split a group (a patient) and keep each class's share per fold as even as the
// groups allow: groups are visited largest first, equal sizes in an order drawn from
// CounterRng(seed, Folds) at a position set by the group's name (so neither the order of the rows
// nor the other groups move a group's turn), and each goes to the fold whose per-class counts it
// brings closest to (count of the class) / K, the smaller fold on a tie. With one image per group
// every fold then holds floor or ceil of count/K images of each class.
#include <cstdint>
#include <vector>

#include "io/image_manifest.h"

namespace thaw {

// The fold of each record (0..K-1). UserErrors, naming --folds: K < 2, or a class present in fewer
// than K groups (some fold's test split would have none of it).
std::vector<int> assign_folds(const ImageManifest& m, int folds, uint64_t seed);

// Fold `fold` becomes Test, every other record Train. UserErrors name --folds or --fold.
void apply_fold(ImageManifest& m, int folds, int fold, uint64_t seed);

}  // namespace thaw
