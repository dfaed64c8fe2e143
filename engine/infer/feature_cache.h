#pragma once
// The feature cache: when the frozen front of the network sees the same pixels for a sample every
// time (evaluation, or training without random augmentation), its output at the boundary (the
// last frozen block) is computed once per sample and reused, so later epochs run only the
// trainable part. The frozen part is inference only (batch norm on running statistics, no
// dropout), and every frozen op computes each sample on its own (kernels/cpu: work items per
// sample), so a sample's boundary activations do not depend on the batch it came in: the cache
// never changes the bits of a run (tests/engine/infer/feature_cache_test.cc checks weights and losses).
//
// An entry is keyed by the hash of the frozen part (the definition of its nodes and the values of
// all their tensors, running statistics included, and the boundary node), of the preprocessing
// (input size, evaluation pixels) and of the sample (its content hash, or its pixels when the
// dataset has none): a change to any of these misses. Entries live in memory up to a budget, then
// in an unlinked temporary file (read back with pread; gone when the process ends).
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/tensor.h"
#include "engine/model/executor.h"
#include "engine/model/model_state.h"
#include "engine/model/plan.h"
#include "graph/graph.h"
#include "io/dataset.h"

namespace thaw {

struct FeatureCacheOptions {
  int64_t memory_bytes = int64_t{2} << 30;  // entries past this go to the spill file
  std::filesystem::path spill_dir;          // empty: std::filesystem::temp_directory_path()
};

// The frozen node whose output is all the trainable part reads, or -1 where there is none to
// cache at: nothing frozen, everything frozen, or a frozen output read past the boundary.
int cache_boundary(const Graph& g, const Plan& plan);

// XXH3-128 (hex) of what the boundary activations depend on besides the sample: the input size,
// the boundary node, each node up to it (kind, inputs, geometry, epsilon, pooling rule, shape)
// and the values of their tensors.
std::string frozen_part_key(const Graph& g, int boundary, const ModelState<float>& state);

struct FeatureCacheStats {
  int64_t computed = 0, reused = 0;  // samples
  int64_t memory_bytes = 0, disk_bytes = 0;
};

class FeatureCache {
 public:
  // boundary: from cache_boundary (>= 0). The frozen part's values must not change while the
  // cache is in use (they are frozen); the key taken here says which values the entries belong to.
  FeatureCache(const Graph& g, int boundary, ModelState<float>& state, FeatureCacheOptions options = {});
  ~FeatureCache();
  FeatureCache(const FeatureCache&) = delete;
  FeatureCache& operator=(const FeatureCache&) = delete;

  int boundary() const { return boundary_; }
  const std::string& frozen_key() const { return frozen_key_; }
  const FeatureCacheStats& stats() const { return stats_; }

  // The boundary activations [B, ...] of a batch: `x` holds the evaluation pixels [B, 3, H, W] of
  // samples `indices` of `data` (a training load without augmentation gives the same pixels).
  // Samples seen before are read back; the others run through the frozen part, as one batch,
  // and are kept. The returned tensor is valid until the next call.
  const Tensor<float>& boundary_batch(const Dataset& data, std::span<const int64_t> indices, const Tensor<float>& x);

  // The entry key of sample i (hex), for tests: frozen part, preprocessing, sample.
  std::string sample_key(const Dataset& data, int64_t i, const float* pixels) const;

 private:
  int64_t slot_of(const Dataset& data, int64_t i, const float* pixels, bool& fresh);
  void store(int64_t slot, const float* row);
  void load(int64_t slot, float* row) const;

  const Graph& g_;
  int boundary_;
  FeatureCacheOptions options_;
  Executor<float> frozen_;  // all-frozen plan: the nodes up to the boundary, as inference
  std::string frozen_key_;
  int64_t per_sample_ = 0;  // floats of one sample's boundary activations
  std::unordered_map<std::string, int64_t> slots_;                // entry key -> slot
  std::map<std::pair<const Dataset*, int64_t>, int64_t> by_sample_;  // (dataset, index) -> slot
  std::vector<std::unique_ptr<float[]>> memory_;  // slot -> values, while under the budget
  int64_t memory_slots_ = 0;                      // slots [0, memory_slots_) live in memory
  int fd_ = -1;                                   // spill file (unlinked), slots past memory_slots_
  int64_t slot_count_ = 0;
  FeatureCacheStats stats_;
  Tensor<float> out_, missing_x_;
};

}  // namespace thaw
