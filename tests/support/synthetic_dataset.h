#pragma once
// A small three-class dataset for training-loop tests: sample i's pixels are synthetic_batch's
// (seed, step i) image, the same every epoch (no augmentation), its label i % 3.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "engine/data/synthetic.h"
#include "io/dataset.h"

namespace thaw::testkit {

class SyntheticDataset final : public Dataset {
 public:
  SyntheticDataset(uint64_t seed, int64_t samples) : seed_(seed), samples_(samples) {}
  int64_t size() const override { return samples_; }
  int64_t num_classes() const override { return 3; }
  std::vector<std::string> class_names() const override { return {"a", "b", "c"}; }
  int32_t label(int64_t i) const override { return static_cast<int32_t>(i % 3); }
  void load(int64_t i, int64_t size, LoadMode /*mode*/, float* chw) const override {
    Tensor<float> x;
    std::vector<int32_t> labels;
    synthetic_batch(seed_, i, 1, size, 3, x, labels);
    std::memcpy(chw, x.data(), sizeof(float) * x.numel());
  }
  std::string describe() const override { return "synthetic"; }

 private:
  uint64_t seed_;
  int64_t samples_;
};

}  // namespace thaw::testkit
