#include "engine/evaluate.h"

#include <algorithm>
#include <memory>

#include "engine/batch.h"
#include "engine/executor.h"
#include "engine/progress.h"
#include "kernels/cpu/loss.h"

namespace thaw {

EvalResult evaluate(const Graph& g, ModelState<float>& state, const Dataset& data, int64_t batch_size,
                    int64_t limit, std::ostream* progress, bool interactive) {
  const int64_t n = limit > 0 ? std::min(limit, data.size()) : data.size();
  // Everything frozen: the whole network runs as inference and keeps nothing.
  const Plan plan = make_plan(g, static_cast<int>(g.blocks.size()) - 1, BnPolicy::Frozen);
  Executor<float> exec(g, plan, state);
  EvalResult r;
  r.count = n;
  r.predicted.reserve(static_cast<size_t>(n));
  Tensor<float> x, dummy;
  std::vector<int32_t> labels;
  double loss_sum = 0;
  int64_t correct = 0;
  std::unique_ptr<Progress> bar;
  if (progress) bar = std::make_unique<Progress>(*progress, "eval", n, interactive);
  for (int64_t start = 0; start < n; start += batch_size) {
    const int64_t b = std::min(batch_size, n - start);
    std::vector<int64_t> idx(static_cast<size_t>(b));
    for (int64_t i = 0; i < b; ++i) idx[i] = start + i;
    load_batch(data, idx, g.input_size, LoadMode::eval(), x, labels);
    const Tensor<float>& logits = exec.forward(x, Phase::Eval);
    const int64_t k = g.num_classes;
    dummy.reshape_uninit({b, k});
    loss_sum += cpu::softmax_cross_entropy<float>(b, k, logits.data(), labels.data(), 0.0, nullptr, dummy.data()) * b;
    for (int64_t i = 0; i < b; ++i) {
      const float* row = logits.data() + i * k;
      const int32_t p = static_cast<int32_t>(std::max_element(row, row + k) - row);
      r.predicted.push_back(p);
      correct += p == labels[i];
    }
    if (bar) bar->update(start + b, start + b, -1);
  }
  if (bar) bar->finish();
  r.loss = n ? loss_sum / n : 0;
  r.accuracy = n ? static_cast<double>(correct) / n : 0;
  return r;
}

}  // namespace thaw
