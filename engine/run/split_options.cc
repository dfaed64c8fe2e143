#include "engine/run/split_options.h"

#include "core/error.h"

namespace thaw {

DataOptions split_options(const RunConfig& c) {
  DataOptions o;
  o.val_fraction = c.val_fraction;
  o.test_fraction = c.test_fraction;
  o.seed = c.seed;
  o.max_image_pixels = checked_max_image_pixels(c.max_image_pixels);
  o.pixel_mapping = pixel_mapping_of(c.window, c.dicom_frame);
  if (c.folds != 0 || c.fold != 0) {
    if (c.folds == 0) fail_user("--fold: picks one of the folds of --folds K; give --folds too");
    if (c.folds < 2 || c.folds > 1000) fail_user("--folds: expected 2 to 1000 folds, got ", c.folds);
    if (c.fold < 0 || c.fold >= c.folds) {
      fail_user("--fold: expected a fold from 0 to ", c.folds - 1, " (of --folds ", c.folds, "), got ", c.fold);
    }
    o.folds = static_cast<int>(c.folds);
    o.fold = static_cast<int>(c.fold);
  }
  return o;
}

}  // namespace thaw
