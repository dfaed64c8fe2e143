#include "io/datasets.h"

#include <filesystem>

#include "core/error.h"
#include "io/idx_dataset.h"

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

}  // namespace

std::unique_ptr<Dataset> open_dataset(const std::string& spec, DataSplit split) {
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
  } else if (fs::is_directory(spec)) {
    dir = spec;
  } else {
    fail_user("--data: expected 'fashion-mnist' or a folder of IDX files, got '", spec, "'");
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

}  // namespace thaw
