#pragma once
// Grey IDX images (MNIST, Fashion-MNIST) as 3-channel inputs: resized bilinearly to the input
// size, the grey channel replicated, normalised with mean 0.5 and std 0.5.
#include <filesystem>

#include "io/dataset.h"
#include "io/idx.h"

namespace thaw {

class IdxDataset final : public Dataset {
 public:
  IdxDataset(const std::filesystem::path& images, const std::filesystem::path& labels,
             std::vector<std::string> class_names, std::string name);
  int64_t size() const override { return data_.images.count; }
  int64_t num_classes() const override { return static_cast<int64_t>(class_names_.size()); }
  std::vector<std::string> class_names() const override { return class_names_; }
  int32_t label(int64_t i) const override { return data_.labels[static_cast<size_t>(i)]; }
  // No augmentation: the mode is ignored.
  void load(int64_t i, int64_t size, LoadMode mode, float* chw) const override;
  std::string describe() const override;
  std::string content_hash(int64_t i) const override;  // the image's rows x cols bytes

 private:
  IdxLabelledImages data_;
  std::vector<std::string> class_names_;
  std::string name_;
};

}  // namespace thaw
