#pragma once
// Opening a dataset from what the user typed after --data.
#include <filesystem>
#include <memory>
#include <string>

#include "io/augment.h"
#include "io/bad_image.h"
#include "io/data_split.h"
#include "io/dataset.h"
#include "io/image_decode.h"
#include "io/image_manifest.h"

namespace thaw {

struct DataOptions {
  double val_fraction = 0;  // > 0: carve a validation split out of train (io/split.h, io/carved_split.h)
  double test_fraction = 0;  // > 0: carve a test split out of train first (image data only; io/test_split.h)
  // > 0: k-fold cross-validation (image data only; io/folds.h): fold `fold` of `folds` is the test
  // split, the others train; every record takes part, whatever split the data named.
  int folds = 0, fold = 0;
  uint64_t seed = 0;        // of that split and of the augmentation
  AugmentConfig augment;    // training augmentation of image data
  // Skip: a CSV row whose image is missing is kept, so that loading it fails and the loader
  // leaves it out and lists it, as it does any unreadable image.
  BadImagePolicy on_bad_image = BadImagePolicy::Fail;
  // Images with more pixels are unreadable (--max-image-pixels; io/image_decode.h).
  int64_t max_image_pixels = kMaxImagePixels;
  // DICOM window and frame (--window, --dicom-frame; io/pixel_mapping.h).
  PixelMapping pixel_mapping;
};

// "fashion-mnist": Debian's dataset-fashion-mnist package (/usr/share/datasets/fashion-mnist);
// a folder of IDX files named like MNIST's ({train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]):
// Train and Test (Val with --val-fraction), no augmentation. A folder with one sub-folder of images per class, or a .csv
// manifest (io/image_manifest.h): Train, Val and Test. Anything else, or missing files, is a
// UserError naming --data and what was expected.
std::unique_ptr<Dataset> open_dataset(const std::string& spec, DataSplit split, const DataOptions& options = {});

// The split a training run evaluates after each epoch: Test for IDX data (it has no validation
// files), Val for image data.
DataSplit held_out_split(const std::string& spec);
// The same, where a --val-fraction carves a validation split out of IDX data too.
DataSplit held_out_split(const std::string& spec, const DataOptions& options);

// The folder a sample's source path is written relative to in a run's samples.csv: the folder of
// class folders, the CSV manifest's folder, or for a pack the same of the data it was made from (so
// a run from the pack and one from its data name their samples alike). Empty for IDX data, whose
// samples have no files of their own.
std::filesystem::path data_source_root(const std::string& spec);

// Whether `spec` names image data (a folder of class folders or a .csv manifest) rather than IDX.
bool is_image_data(const std::string& spec);

// The manifest of image data with the --val-fraction split applied (for `thaw data check`).
ImageManifest open_image_manifest(const std::string& spec, const DataOptions& options);

// The splits the options make of a manifest's records, in their order: the folds (or the carved
// test split), then the carved validation split. Image folders, manifests and packs all use it.
void apply_split_options(ImageManifest& m, const DataOptions& options);

}  // namespace thaw
