#pragma once
// A trainable tensor as optimizers (engine/optim/optimizer.h) and the run record's checksums
// (engine/model/state_hash.h) see it: its values and its gradient, side by side.
#include <cstdint>
#include <string>

namespace thaw {

// One trainable parameter and its gradient, both owned by the caller, alive as long as
// whoever holds the reference (an optimizer, a checksum), and not overlapping each other or any other parameter's. `decay` says whether weight decay applies: true for conv and linear weights, false for
// batch-norm parameters and biases (timm's default).
template <typename T>
struct ParamRef {
  std::string name;
  T* value = nullptr;
  const T* grad = nullptr;
  int64_t size = 0;
  bool decay = true;
};

}  // namespace thaw
