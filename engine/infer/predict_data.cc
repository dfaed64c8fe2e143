#include "engine/infer/predict_data.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "core/error.h"
#include "engine/data/batch.h"
#include "engine/model/executor.h"
#include "core/progress.h"

namespace thaw {

DatasetPredictions predict_dataset(const Graph& g, ModelState<float>& state, const Dataset& data, int64_t batch_size,
                                   FeatureCache* cache, int64_t limit, std::ostream* progress, bool interactive,
                                   LogitsForward* device) {
  if (batch_size < 1) fail_user("--batch-size: expected at least 1, got ", batch_size);
  const int64_t n = limit > 0 ? std::min(limit, data.size()) : data.size();
  const int64_t k = g.num_classes;
  const Plan plan = make_plan(g, static_cast<int>(g.blocks.size()) - 1, BnPolicy::Frozen);
  Executor<float> exec(g, plan, state);
  DatasetPredictions r;
  r.samples = n;
  r.classes = k;
  r.probs.resize(static_cast<size_t>(n * k));
  Tensor<float> x;
  std::vector<int32_t> labels;
  std::unique_ptr<Progress> bar;
  if (progress) bar = std::make_unique<Progress>(*progress, "eval", n, interactive);
  double loss_sum = 0;
  int64_t correct = 0;
  for (int64_t start = 0; start < n; start += batch_size) {
    const int64_t b = std::min(batch_size, n - start);
    std::vector<int64_t> idx(static_cast<size_t>(b));
    for (int64_t i = 0; i < b; ++i) idx[i] = start + i;
    load_batch(data, idx, g.input_size, LoadMode::eval(), x, labels);
    std::span<const float> logits;
    if (device) {
      logits = device->logits(x);
    } else {
      logits = cache ? exec.forward_from(cache->boundary(), cache->boundary_batch(data, idx, x), Phase::Eval).span()
                     : exec.forward(x, Phase::Eval).span();
    }
    for (int64_t i = 0; i < b; ++i) {
      const int32_t label = labels[i];
      if (label < 0 || label >= k) {
        fail_user(data.describe(), ": sample ", start + i, " has class ", label, ", outside the model's ", k, " classes");
      }
      const float* row = logits.data() + i * k;
      const int64_t best = std::max_element(row, row + k) - row;
      double sum = 0;
      double* p = r.probs.data() + (start + i) * k;
      for (int64_t c = 0; c < k; ++c) sum += p[c] = std::exp(static_cast<double>(row[c]) - static_cast<double>(row[best]));
      for (int64_t c = 0; c < k; ++c) p[c] /= sum;
      loss_sum += std::log(sum) - (static_cast<double>(row[label]) - static_cast<double>(row[best]));
      r.labels.push_back(label);
      r.predicted.push_back(static_cast<int32_t>(best));
      correct += best == label;
    }
    if (bar) bar->update(start + b, start + b, -1);
  }
  if (bar) bar->finish();
  r.loss = n ? loss_sum / static_cast<double>(n) : 0;
  r.accuracy = n ? static_cast<double>(correct) / static_cast<double>(n) : 0;
  return r;
}

}  // namespace thaw
