#pragma once
// Inference over a dataset: loss, accuracy and per-sample predictions.
#include <cstdint>
#include <ostream>
#include <vector>

#include "engine/infer/feature_cache.h"
#include "engine/infer/logits_forward.h"
#include "engine/data/loader.h"
#include "engine/model/model_state.h"
#include "graph/graph.h"
#include "io/dataset.h"

namespace thaw {

struct EvalResult {
  int64_t count = 0;
  double loss = 0;      // mean cross-entropy
  double accuracy = 0;  // top-1
  std::vector<int32_t> predicted;
  std::vector<int64_t> indices;  // the sample each prediction is of (skipped samples have none)
  std::vector<int32_t> labels;   // the true class of each
  std::vector<float> probabilities;  // count x classes: each prediction's softmax
};

// progress: optional stream for a progress line; limit > 0 evaluates the first `limit` samples.
// Samples load through a BatchLoader with `loader`'s workers and bad-image policy; count, loss and
// accuracy are over the samples that loaded. With a feature cache (engine/infer/feature_cache.h) the
// frozen front of each sample is read back rather than recomputed: the same numbers. With `device`
// (engine/infer/logits_forward.h; the GPU's, for --device cuda runs) the logits come from it, and
// `cache` is not used.
EvalResult evaluate(const Graph& g, ModelState<float>& state, const Dataset& data, int64_t batch_size,
                    int64_t limit = 0, std::ostream* progress = nullptr, bool interactive = false,
                    const LoaderOptions& loader = {}, FeatureCache* cache = nullptr, LogitsForward* device = nullptr);

}  // namespace thaw
