#include "engine/infer/evaluate.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "engine/data/loader.h"
#include "engine/model/executor.h"
#include "core/progress.h"
#include "kernels/cpu/loss.h"

namespace thaw {

EvalResult evaluate(const Graph& g, ModelState<float>& state, const Dataset& data, int64_t batch_size,
                    int64_t limit, std::ostream* progress, bool interactive, const LoaderOptions& loader_options,
                    FeatureCache* cache, LogitsForward* device) {
  const int64_t n = limit > 0 ? std::min(limit, data.size()) : data.size();
  // Everything frozen: the whole network runs as inference and keeps nothing.
  const Plan plan = make_plan(g, static_cast<int>(g.blocks.size()) - 1, BnPolicy::Frozen);
  Executor<float> exec(g, plan, state);
  EvalResult r;
  r.predicted.reserve(static_cast<size_t>(n));
  std::vector<std::vector<int64_t>> batches;
  for (int64_t start = 0; start < n; start += batch_size) {
    std::vector<int64_t>& idx = batches.emplace_back(static_cast<size_t>(std::min(batch_size, n - start)));
    for (size_t i = 0; i < idx.size(); ++i) idx[i] = start + static_cast<int64_t>(i);
  }
  BatchLoader loader(data, std::move(batches), g.input_size, LoadMode::eval(), loader_options);
  Tensor<float> x, dummy;
  std::vector<int32_t> labels;
  double loss_sum = 0;
  int64_t correct = 0;
  std::unique_ptr<Progress> bar;
  if (progress) bar = std::make_unique<Progress>(*progress, "eval", n, interactive);
  int64_t seen = 0;
  while (const LoadedBatch* batch = loader.next()) {
    seen += batch->count() + static_cast<int64_t>(batch->skipped.size());
    const int64_t b = batch->count();
    if (b == 0) continue;
    x.reshape_uninit(batch->shape);
    std::copy(batch->x, batch->x + x.numel(), x.data());
    labels = batch->labels;
    std::span<const float> logits;
    if (device) {
      logits = device->logits(x);
    } else {
      logits = cache ? exec.forward_from(cache->boundary(), cache->boundary_batch(data, batch->indices, x), Phase::Eval).span()
                     : exec.forward(x, Phase::Eval).span();
    }
    const int64_t k = g.num_classes;
    dummy.reshape_uninit({b, k});
    loss_sum += cpu::softmax_cross_entropy<float>(b, k, logits.data(), labels.data(), 0.0, nullptr, dummy.data()) * b;
    for (int64_t i = 0; i < b; ++i) {
      const float* row = logits.data() + i * k;
      const int32_t p = static_cast<int32_t>(std::max_element(row, row + k) - row);
      r.predicted.push_back(p);
      r.indices.push_back(batch->indices[i]);
      r.labels.push_back(labels[i]);
      correct += p == labels[i];
      // In double, from the largest logit, in class order: the same on every machine.
      double z = 0;
      for (int64_t c = 0; c < k; ++c) z += std::exp(static_cast<double>(row[c]) - row[p]);
      for (int64_t c = 0; c < k; ++c) {
        r.probabilities.push_back(static_cast<float>(std::exp(static_cast<double>(row[c]) - row[p]) / z));
      }
    }
    if (bar) bar->update(seen, seen, -1);
  }
  if (bar) bar->finish();
  r.count = static_cast<int64_t>(r.predicted.size());
  r.loss = r.count ? loss_sum / static_cast<double>(r.count) : 0;
  r.accuracy = r.count ? static_cast<double>(correct) / static_cast<double>(r.count) : 0;
  return r;
}

}  // namespace thaw
