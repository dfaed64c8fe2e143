#pragma once
// A dataset seen through a selection of its samples, optionally with its classes narrowed and
// renumbered, or with training augmentation turned off. It owns the dataset it views, so views
// stack (a class subset of a validation split of an IDX file).
//
// Class subsets: `--class-subset 0-4`, `5,7,9`, `sandal,bag` (indices, inclusive ranges a-b, or
// class names, comma separated): the view holds the samples of those classes only, their labels
// renumbered 0..k-1 in the order listed, and the class names of the subset in that order.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "io/dataset.h"

namespace thaw {

class DatasetView final : public Dataset {
 public:
  // `indices`: samples of `base`, in view order. `label_map`: the view's label of each base label
  // (-1: not in the view; empty: labels unchanged). `class_names`: the view's classes (empty: the
  // base's). `no_augment`: training loads get the evaluation pixels.
  DatasetView(std::unique_ptr<Dataset> base, std::vector<int64_t> indices, std::vector<int32_t> label_map,
              std::vector<std::string> class_names, std::string description, bool no_augment = false);

  int64_t size() const override { return static_cast<int64_t>(indices_.size()); }
  int64_t num_classes() const override { return static_cast<int64_t>(class_names_.size()); }
  std::vector<std::string> class_names() const override { return class_names_; }
  int32_t label(int64_t i) const override;
  void load(int64_t i, int64_t size, LoadMode mode, float* chw) const override;
  std::string describe() const override { return description_; }
  std::string content_hash(int64_t i) const override { return base_->content_hash(base_index(i)); }
  std::string source_path(int64_t i) const override { return base_->source_path(base_index(i)); }
  std::string group(int64_t i) const override { return base_->group(base_index(i)); }

  int64_t base_index(int64_t i) const { return indices_[static_cast<size_t>(i)]; }
  const Dataset& base() const { return *base_; }

 private:
  std::unique_ptr<Dataset> base_;
  std::vector<int64_t> indices_;
  std::vector<int32_t> label_map_;
  std::vector<std::string> class_names_;
  std::string description_;
  bool no_augment_;
};

// The base classes a --class-subset value names, in the order given: indices, ranges "a-b" and
// names. Unknown names, indices out of range, a class named twice or an empty value are a
// UserError naming the flag and the valid classes.
std::vector<int32_t> parse_class_subset(const std::string& spec, const std::vector<std::string>& class_names);

// The samples of the named classes, renumbered. An empty spec returns the dataset unchanged.
std::unique_ptr<Dataset> with_class_subset(std::unique_ptr<Dataset> data, const std::string& spec);

// Training loads give the evaluation pixels (no random crop, flip or jitter): what --augment none
// means. IDX data has no augmentation to turn off; the view changes nothing there.
std::unique_ptr<Dataset> without_augmentation(std::unique_ptr<Dataset> data);

}  // namespace thaw
