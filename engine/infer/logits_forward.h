#pragma once
// Where evaluate() (engine/infer/evaluate.h) gets a batch's logits when not from the CPU executor:
// the GPU's inference forward (engine/gpu/cuda_inference.h), for `--device cuda` runs.
#include <span>

#include "core/tensor.h"

namespace thaw {

class LogitsForward {
 public:
  virtual ~LogitsForward() = default;
  // Logits [rows, K] of a batch of normalised pixels [rows, 3, H, W] (host), every block as
  // inference; valid until the next call.
  virtual std::span<const float> logits(const Tensor<float>& x) = 0;
};

}  // namespace thaw
