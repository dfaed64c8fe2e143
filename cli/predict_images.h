#pragma once
// `thaw predict` on image files (io/image_manifest.h kImageNames): a file, or a folder searched recursively (sorted paths).
// Each image gets the evaluation preprocessing (io/augment.h) at --input-size; the output is a CSV
// with a header `path,predicted,<class>,...`: the image's path, the predicted class name and the
// softmax probability of every class. Class names come from --class-names, else from the weights'
// metadata (thaw_class_names, written by thaw train), else they are the indices 0..K-1. An
// unreadable image stops the run (exit 2, naming it) unless skip_bad_images is set.
#include <cstdint>
#include <string>
#include <vector>

#include "io/pixel_mapping.h"

namespace thaw::cli {

struct PredictImagesArgs {
  std::string weights, input, output;
  int64_t classes = 0;
  int64_t input_size = 299;
  std::vector<std::string> class_names;
  int64_t batch_size = 16;
  std::string arch = "inception_v4";
  // --on-bad-image skip: an unreadable image is left out of the CSV and listed, with why, in
  // <output>.skipped.txt, instead of stopping the run.
  bool skip_bad_images = false;
  int64_t max_image_pixels = 0;  // --max-image-pixels
  PixelMapping pixel_mapping;    // --window, --dicom-frame
};

// Whether --input names images (an image file by extension, or a folder) rather than a .npy array.
bool is_image_input(const std::string& input);

void predict_images(const PredictImagesArgs& a);

}  // namespace thaw::cli
