#pragma once
// Class probabilities for every sample of a dataset (evaluation preprocessing, the whole network
// as inference), for `thaw eval` and the sweep's evaluations. With a feature cache the frozen
// front of each sample is read back instead of recomputed; the numbers are the same.
#include <cstdint>
#include <ostream>
#include <vector>

#include "engine/infer/feature_cache.h"
#include "engine/infer/logits_forward.h"
#include "engine/model/model_state.h"
#include "graph/graph.h"
#include "io/dataset.h"

namespace thaw {

struct DatasetPredictions {
  int64_t samples = 0, classes = 0;
  std::vector<int32_t> labels;     // the dataset's label per sample
  std::vector<int32_t> predicted;  // argmax of the logits (the first on ties)
  std::vector<double> probs;       // samples x classes: softmax of the float logits, in double
  double loss = 0;                 // mean cross-entropy
  double accuracy = 0;
};

// Samples [0, limit) (all when limit is 0) in batches of batch_size. A sample whose label is
// outside the model's classes is a UserError naming it. With `device` (the GPU's inference
// forward, engine/infer/logits_forward.h) the logits come from it and `cache` is not used.
DatasetPredictions predict_dataset(const Graph& g, ModelState<float>& state, const Dataset& data, int64_t batch_size,
                                   FeatureCache* cache = nullptr, int64_t limit = 0, std::ostream* progress = nullptr,
                                   bool interactive = false, LogitsForward* device = nullptr);

}  // namespace thaw
