#include "kernels/cpu/loss.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"

namespace thaw::cpu {

namespace {
// log(sum_c exp(x_c)) of one row, shifted by the row maximum so nothing overflows.
template <typename T>
double log_sum_exp(int64_t k, const T* row) {
  const double mx = *std::max_element(row, row + k);
  double s = 0;
  for (int64_t c = 0; c < k; ++c) s += std::exp(static_cast<double>(row[c]) - mx);
  return mx + std::log(s);
}
}  // namespace

template <typename T>
double softmax_cross_entropy(int64_t n, int64_t k, const T* logits, const int32_t* labels,
                             double label_smoothing, const T* class_weights, T* dlogits) {
  THAW_CHECK(n >= 1 && k >= 1, "cross-entropy needs a non-empty batch, got ", n, "x", k);
  THAW_CHECK(label_smoothing >= 0.0 && label_smoothing <= 1.0, "label smoothing ", label_smoothing);
  const auto weight = [&](int64_t c) { return class_weights ? static_cast<double>(class_weights[c]) : 1.0; };
  double weight_total = 0, class_weight_sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    THAW_CHECK(labels[i] >= 0 && labels[i] < k, "label ", labels[i], " of sample ", i, " outside [0, ", k, ")");
    weight_total += weight(labels[i]);
  }
  for (int64_t c = 0; c < k; ++c) class_weight_sum += weight(c);
  THAW_CHECK(weight_total > 0, "the weights of the batch's labels sum to ", weight_total);

  const double e = label_smoothing, share = e / static_cast<double>(k);
  double loss = 0;
  std::vector<double> logp(static_cast<size_t>(k));
  for (int64_t i = 0; i < n; ++i) {
    const T* row = logits + i * k;
    const double lse = log_sum_exp(k, row);
    double smooth = 0;
    for (int64_t c = 0; c < k; ++c) {
      logp[c] = static_cast<double>(row[c]) - lse;
      smooth -= weight(c) * logp[c];
    }
    const int64_t y = labels[i];
    const double wy = weight(y);
    loss += (1.0 - e) * wy * -logp[y] + share * smooth;
    if (!dlogits) continue;
    // d l_i / d x_j = (1-e) w_y (p_j - [j=y]) + (e/K) (p_j * sum_c w_c - w_j)
    for (int64_t c = 0; c < k; ++c) {
      const double p = std::exp(logp[c]);
      double d = (1.0 - e) * wy * (p - (c == y ? 1.0 : 0.0)) + share * (p * class_weight_sum - weight(c));
      dlogits[i * k + c] = static_cast<T>(d / weight_total);
    }
  }
  return loss / weight_total;
}

template <typename T>
void softmax(int64_t n, int64_t k, const T* logits, T* probs) {
  for (int64_t i = 0; i < n; ++i) {
    const double lse = log_sum_exp(k, logits + i * k);
    for (int64_t c = 0; c < k; ++c) {
      probs[i * k + c] = static_cast<T>(std::exp(static_cast<double>(logits[i * k + c]) - lse));
    }
  }
}

template double softmax_cross_entropy<float>(int64_t, int64_t, const float*, const int32_t*, double, const float*,
                                             float*);
template double softmax_cross_entropy<double>(int64_t, int64_t, const double*, const int32_t*, double,
                                              const double*, double*);
template void softmax<float>(int64_t, int64_t, const float*, float*);
template void softmax<double>(int64_t, int64_t, const double*, double*);

}  // namespace thaw::cpu
