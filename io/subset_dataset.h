#pragma once
// The first `count` samples of another dataset (quick runs on a slice of a large set).
#include <algorithm>

#include "io/dataset.h"

namespace thaw {

class SubsetDataset final : public Dataset {
 public:
  SubsetDataset(const Dataset& base, int64_t count) : base_(base), count_(std::min(count, base.size())) {}
  int64_t size() const override { return count_; }
  int64_t num_classes() const override { return base_.num_classes(); }
  std::vector<std::string> class_names() const override { return base_.class_names(); }
  int32_t label(int64_t i) const override { return base_.label(i); }
  void load(int64_t i, int64_t size, LoadMode mode, float* chw) const override { base_.load(i, size, mode, chw); }
  std::string content_hash(int64_t i) const override { return base_.content_hash(i); }
  std::string source_path(int64_t i) const override { return base_.source_path(i); }
  std::string group(int64_t i) const override { return base_.group(i); }
  std::string describe() const override {
    return base_.describe() + " (first " + std::to_string(count_) + " samples)";
  }

 private:
  const Dataset& base_;
  int64_t count_;
};

}  // namespace thaw
