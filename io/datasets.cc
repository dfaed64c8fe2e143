#include "io/datasets.h"

#include <algorithm>
#include <filesystem>

#include "core/error.h"
#include "io/carved_split.h"
#include "io/folds.h"
#include "io/idx_dataset.h"
#include "io/image_dataset.h"
#include "io/pack_dataset.h"
#include "io/split.h"
#include "io/test_split.h"

namespace thaw {

namespace {

namespace fs = std::filesystem;

constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

std::vector<std::string> fashion_mnist_classes() {
  return {"t-shirt/top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle boot"};
}

fs::path find_idx(const fs::path& dir, const std::string& stem, const std::string& flag_value) {
  for (const std::string& name : {stem + ".gz", stem}) {
    if (fs::exists(dir / name)) return dir / name;
  }
  fail_user("--data ", flag_value, ": ", (dir / (stem + "[.gz]")).string(), " not found");
}

bool is_csv(const std::string& spec) {
  std::string ext = fs::path(spec).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".csv";
}

bool has_idx_files(const fs::path& dir) {
  return fs::exists(dir / "train-images-idx3-ubyte") || fs::exists(dir / "train-images-idx3-ubyte.gz") ||
         fs::exists(dir / "t10k-images-idx3-ubyte") || fs::exists(dir / "t10k-images-idx3-ubyte.gz");
}

std::unique_ptr<Dataset> open_idx(const std::string& spec, DataSplit split, const DataOptions& options) {
  if (options.folds != 0) {
    fail_user("--folds: k-fold splits are made for image data (a folder of class folders, a manifest or a pack); "
              "IDX data (", spec, ") has fixed train and test files");
  }
  if (options.test_fraction != 0) {
    fail_user("--test-fraction: IDX data (", spec, ") has test files of its own; drop the flag");
  }
  if (options.val_fraction != 0 && split != DataSplit::Test) {
    // Validation carved out of the train files (io/carved_split.h).
    DataOptions whole = options;
    whole.val_fraction = 0;
    return carve_validation(open_idx(spec, DataSplit::Train, whole), split, options.val_fraction, options.seed);
  }
  if (split == DataSplit::Val) {
    fail_user("--data ", spec, ": IDX data has train and test files only; give --val-fraction F to carve a "
              "validation split out of train");
  }
  const std::string prefix = split == DataSplit::Train ? "train" : "t10k";
  fs::path dir;
  std::vector<std::string> classes;
  if (spec == "fashion-mnist") {
    dir = kFashionMnistDir;
    if (!fs::is_directory(dir)) {
      fail_user("--data fashion-mnist: ", kFashionMnistDir, " is missing; install Debian's dataset-fashion-mnist "
                "(scripts/setup does)");
    }
    classes = fashion_mnist_classes();
  } else {
    dir = spec;
  }
  const fs::path images = find_idx(dir, prefix + "-images-idx3-ubyte", spec);
  const fs::path labels = find_idx(dir, prefix + "-labels-idx1-ubyte", spec);
  if (classes.empty()) {
    // A plain IDX folder names no classes: number them from the labels found.
    uint8_t max_label = 0;
    for (uint8_t l : read_idx_labels(labels)) max_label = std::max(max_label, l);
    for (int c = 0; c <= max_label; ++c) classes.push_back(std::to_string(c));
  }
  const std::string name = (spec == "fashion-mnist" ? "Fashion-MNIST " : spec + " ") + prefix;
  return std::make_unique<IdxDataset>(images, labels, std::move(classes), name);
}

}  // namespace

std::filesystem::path data_source_root(const std::string& spec) {
  std::string source = spec;
  if (is_pack_dir(spec)) {
    source = read_pack_manifest(spec).source;  // absolute as packed; it need not exist any more
  } else if (!is_image_data(spec)) {
    return {};
  }
  if (source.empty()) return {};
  const fs::path p = fs::absolute(source).lexically_normal();
  return is_csv(source) ? p.parent_path() : p;
}

bool is_image_data(const std::string& spec) {
  if (spec == "fashion-mnist") return false;
  if (fs::is_directory(spec)) return !has_idx_files(spec);
  return is_csv(spec);
}

ImageManifest open_image_manifest(const std::string& spec, const DataOptions& options) {
  if (is_pack_dir(spec)) fail_user(spec, " is a pack of decoded images: give the folder or CSV it was made from");
  ImageManifest m;
  if (fs::is_directory(spec)) {
    m = scan_image_folder(spec);
  } else if (is_csv(spec)) {
    if (!fs::is_regular_file(spec)) fail_user("--data: CSV manifest ", spec, " not found");
    m = read_csv_manifest(spec, options.on_bad_image == BadImagePolicy::Fail);
  } else {
    fail_user("--data: expected a folder of class folders or a .csv manifest, got '", spec, "'");
  }
  apply_split_options(m, options);
  return m;
}

void apply_split_options(ImageManifest& m, const DataOptions& options) {
  if (options.folds != 0) {
    if (options.test_fraction != 0) {
      fail_user("--folds and --test-fraction: with folds, each fold in turn is the test split; drop --test-fraction");
    }
    apply_fold(m, options.folds, options.fold, options.seed);
  } else if (options.test_fraction != 0) {
    split_off_test(m, options.test_fraction, options.seed);
  }
  if (options.val_fraction != 0) split_off_validation(m, options.val_fraction, options.seed);
}

std::unique_ptr<Dataset> open_dataset(const std::string& spec, DataSplit split, const DataOptions& options) {
  if (is_pack_dir(spec)) {
    if (options.pixel_mapping.window || options.pixel_mapping.frame != 0) {
      fail_user("--window and --dicom-frame: the pack ", spec, " holds pixels already mapped (pack.json pixel_mapping); "
                "give them to thaw pack instead");
    }
    return std::make_unique<PackDataset>(PackData::open(spec), split, options);
  }
  if (spec == "fashion-mnist" || (fs::is_directory(spec) && has_idx_files(spec))) {
    return open_idx(spec, split, options);
  }
  if (!fs::is_directory(spec) && !is_csv(spec)) {
    fail_user("--data: expected 'fashion-mnist', a folder (IDX files, or one sub-folder of images per class) or a "
              ".csv manifest, got '", spec, "'");
  }
  const ImageManifest m = open_image_manifest(spec, options);
  return std::make_unique<ImageDataset>(m, split, options.seed, options.augment, options.max_image_pixels,
                                        options.pixel_mapping);
}

DataSplit held_out_split(const std::string& spec) { return is_image_data(spec) ? DataSplit::Val : DataSplit::Test; }

DataSplit held_out_split(const std::string& spec, const DataOptions& options) {
  return options.val_fraction != 0 ? DataSplit::Val : held_out_split(spec);
}

}  // namespace thaw
