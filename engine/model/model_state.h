#pragma once
// The values of every state_dict entry of a graph: parameters, running statistics and the
// num_batches_tracked counters, indexed like Graph::tensors.
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "graph/graph.h"

namespace thaw {

template <typename T>
struct ModelState {
  std::vector<Tensor<T>> values;        // one per Graph::tensors entry (num_batches_tracked: unused, size 0)
  std::vector<int64_t> batches_tracked;  // one per Graph::tensors entry; meaningful for NumBatchesTracked only

  static ModelState zeros(const Graph& g);
  // Seeded initialisation: He-normal convs, PyTorch-default linear, BN gamma 1 / beta 0, running
  // statistics 0 / 1. Each tensor is keyed by (seed, "init", hash of its name), so re-initialising
  // one tensor (a new head) gives the same values as a full initialisation.
  static ModelState random(const Graph& g, uint64_t seed);
  void init_tensor(const Graph& g, int index, uint64_t seed);

  template <typename U>
  ModelState<U> cast() const;
};

}  // namespace thaw
