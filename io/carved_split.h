#pragma once
// A validation split carved out of a dataset that has only train and test (IDX files such as
// Fashion-MNIST): `--val-fraction F` there works as for image data (io/split.h: deterministic from
// the seed, stratified by class), with each sample's content hash as its group, so byte-identical
// images never land on both sides.
#include <cstdint>
#include <memory>

#include "io/data_split.h"
#include "io/dataset.h"

namespace thaw {

// The Train (what is left) or Val (the carved part) view of `train`; indices keep their order.
std::unique_ptr<Dataset> carve_validation(std::unique_ptr<Dataset> train, DataSplit which, double fraction,
                                          uint64_t seed);

}  // namespace thaw
