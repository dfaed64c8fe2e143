#include "io/idx_dataset.h"

#include "core/error.h"
#include "core/sha256.h"
#include "io/resize.h"

namespace thaw {

IdxDataset::IdxDataset(const std::filesystem::path& images, const std::filesystem::path& labels,
                       std::vector<std::string> class_names, std::string name)
    : data_(read_idx_labelled(images, labels)), class_names_(std::move(class_names)), name_(std::move(name)) {
  for (size_t i = 0; i < data_.labels.size(); ++i) {
    if (data_.labels[i] >= class_names_.size()) {
      fail_user(labels.string(), ": label ", int(data_.labels[i]), " of sample ", i, " is outside 0..",
                class_names_.size() - 1);
    }
  }
}

void IdxDataset::load(int64_t i, int64_t size, LoadMode, float* chw) const {
  grey_to_normalised_chw(data_.images.image(i), data_.images.rows, data_.images.cols, size, chw);
}

std::string IdxDataset::content_hash(int64_t i) const {
  return sha256_hex({reinterpret_cast<const char*>(data_.images.image(i)),
                     static_cast<size_t>(data_.images.rows * data_.images.cols)});
}

std::string IdxDataset::describe() const {
  return cat_str(name_, ": ", size(), " images of ", data_.images.rows, "x", data_.images.cols, ", ", num_classes(),
                 " classes");
}

}  // namespace thaw
