#pragma once
// Softmax cross-entropy with PyTorch's semantics, the twin of kernels/cpu/loss.h:
//   l_i = (1 - e) * w[y_i] * -log p_i[y_i] + (e / K) * sum_c w[c] * -log p_i[c]
//   loss = sum_i l_i / sum_i w[y_i]          (w = 1 when class_weights is null)
// Row statistics and both sums are taken in double with fixed trees; the loss comes back to the
// host, so this call waits for the stream.
#include <cstdint>

namespace thaw::cuda {

class Context;

// logits [n, k], labels [n] (device), class_weights [k] or null; dlogits [n, k] is overwritten
// with d loss / d logits (pass null to skip the gradient).
double softmax_cross_entropy(Context& ctx, int64_t n, int64_t k, const float* logits, const int32_t* labels,
                             double label_smoothing, const float* class_weights, float* dlogits);

// Row-wise softmax, for predictions.
void softmax(Context& ctx, int64_t n, int64_t k, const float* logits, float* probs);

}  // namespace thaw::cuda
