#pragma once
// Softmax cross-entropy with PyTorch's semantics, the twin of kernels/cpu/loss.h:
//   l_i = (1 - e) * w[y_i] * -log p_i[y_i] + (e / K) * sum_c w[c] * -log p_i[c]
//   loss = sum_i l_i / sum_i w[y_i]          (w = 1 when class_weights is null)
// Row statistics and both sums are taken in double with fixed trees. softmax_cross_entropy brings
// the loss back to the host (it waits for the stream); the async form leaves it on the device.
#include <cstdint>

namespace thaw::cuda {

class Context;

// logits [n, k], labels [n] (device), class_weights [k] or null; dlogits [n, k] is overwritten
// with d loss / d logits (pass null to skip the gradient).
double softmax_cross_entropy(Context& ctx, int64_t n, int64_t k, const float* logits, const int32_t* labels,
                             double label_smoothing, const float* class_weights, float* dlogits);

// The same without waiting: the mean loss into device `loss_out`, and the smallest row whose label
// lies outside [0, k) into device `bad_row_out` by an atomic minimum (the caller sets it to
// 0x7f7f7f7f or more first, and checks it with check_cross_entropy once the stream has passed).
void softmax_cross_entropy_async(Context& ctx, int64_t n, int64_t k, const float* logits, const int32_t* labels,
                                 double label_smoothing, const float* class_weights, float* dlogits, double* loss_out,
                                 int* bad_row_out);
// An InternalError naming the label of `bad_row` when it is a row (< n).
void check_cross_entropy(const int32_t* labels, int64_t n, int64_t k, int bad_row);

// `flag` (device) = 1 where the step must not update: the loss at `loss` is not finite or a label of
// its `rows` rows was out of range (`bad_row` < rows, as the async loss left them); else 0. Queued
// behind the loss, read by the optimizer's kernels (SgdScalars::skip, AdamWScalars::skip).
void step_skip_flag(Context& ctx, const double* loss, const int* bad_row, int64_t rows, int32_t* flag);

// Row-wise softmax, for predictions.
void softmax(Context& ctx, int64_t n, int64_t k, const float* logits, float* probs);

}  // namespace thaw::cuda
