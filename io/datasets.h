#pragma once
// Opening a dataset from what the user typed after --data.
#include <memory>
#include <string>

#include "io/dataset.h"

namespace thaw {

enum class DataSplit { Train, Test };

// "fashion-mnist": Debian's dataset-fashion-mnist package (/usr/share/datasets/fashion-mnist);
// a folder: IDX files named like MNIST's ({train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]).
// Anything else, or missing files, is a UserError naming --data and what was expected.
std::unique_ptr<Dataset> open_dataset(const std::string& spec, DataSplit split);

}  // namespace thaw
