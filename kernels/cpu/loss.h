#pragma once
// Softmax cross-entropy with PyTorch's semantics for label smoothing e and class weights w:
//   l_i = (1 - e) * w[y_i] * -log p_i[y_i] + (e / K) * sum_c w[c] * -log p_i[c]
//   loss = sum_i l_i / sum_i w[y_i]          (w = 1 when no weights are given)
// Returns the loss; dlogits (overwritten; null skips it) is d loss / d logits. Sums are taken in
// double.
#include <cstdint>

namespace thaw::cpu {

template <typename T>
double softmax_cross_entropy(int64_t n, int64_t k, const T* logits, const int32_t* labels,
                             double label_smoothing, const T* class_weights, T* dlogits);

// Row-wise softmax, for predictions.
template <typename T> void softmax(int64_t n, int64_t k, const T* logits, T* probs);

}  // namespace thaw::cpu
