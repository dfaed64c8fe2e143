// CudaExecutor's frozen front: the folded groups (weights and biases from the current values),
// the branch ends written into their concatenations (engine/gpu/op_fusions.h).
#include "engine/gpu/cuda_executor.h"

#if THAW_HAVE_CUDA

#include <algorithm>

#include "engine/gpu/op_fusions.h"
#include "engine/gpu/tensor_align.h"
#include "kernels/cuda/channels_last.h"
#include "kernels/cuda/convert.h"
#include "kernels/cuda/fold_bn.h"

namespace thaw {

void CudaExecutor::set_fold_frozen(bool on) {
  folded_ = on ? foldable_convs(g_, plan_) : std::vector<char>(g_.nodes.size(), 0);
  bn_relu_ = on ? fusable_bn_relu(g_, plan_) : std::vector<char>(g_.nodes.size(), 0);
  slots_ = concat_slots(g_, plan_, folded_);  // none without folded groups
  fold_w_at_.assign(g_.nodes.size(), -1);
  fold_b_at_.assign(g_.nodes.size(), -1);
  int64_t w_at = 0, b_at = 0;
  for (size_t i = 0; i < g_.nodes.size(); ++i) {
    if (!folded_[i]) continue;
    fold_w_at_[i] = w_at;
    fold_b_at_[i] = b_at;
    // Room for a channels-last copy reading the image's padded channels (cuda::pixel_channels).
    const Shape& ws = g_.tensors[g_.nodes[i].tensors[0]].shape;
    const int64_t c = g_.nodes[i].inputs[0] == 0 ? cuda::pixel_channels(ws[1]) : ws[1];
    w_at += align_floats(ws[0] * c * ws[2] * ws[3]);
    b_at += align_floats(g_.nodes[i].out[0]);
  }
  fold_w_ = cuda::DeviceBuffer<float>(static_cast<size_t>(w_at));
  fold_b_ = cuda::DeviceBuffer<float>(static_cast<size_t>(b_at));
  fold_w16_ = cuda::DeviceBuffer<cuda::bf16>(bf16_ ? static_cast<size_t>(w_at) : 0);
  layout_channels_last();  // the front and the weight copies depend on the groups; resets the arena
}

int CudaExecutor::folded_convs() const { return static_cast<int>(std::count(folded_.begin(), folded_.end(), 1)); }

void CudaExecutor::prepare_folds() {
  for (size_t i = 0; i < g_.nodes.size(); ++i) {
    if (!folded_[i]) continue;
    const int conv = static_cast<int>(i), bn = conv + 1;
    const Shape& ws = g_.tensors[g_.nodes[i].tensors[0]].shape;
    const int64_t c_out = ws[0], per_out = shape_numel(ws) / c_out;
    float* w = fold_w_.data() + fold_w_at_[i];
    // A group of the channels-last front (or of an all channels-last network) reads its filter as
    // [k, r, s, c].
    const bool front = conv <= cl_end_ || nhwc_all_;
    float* folded = front ? static_cast<float*>(ctx_.scratch(static_cast<size_t>(c_out * per_out) * sizeof(float))) : w;
    cuda::fold_batchnorm(ctx_, c_out, per_out, g_.nodes[bn].eps, param(conv, 0), param(bn, 0), param(bn, 1),
                         param(bn, 2), param(bn, 3), folded, fold_b_.data() + fold_b_at_[i]);
    if (front) cuda::kcrs_to_krsc(ctx_, c_out, ws[1], ws[2] * ws[3], folded, w, filter_channels_stored(conv));
  }
  if (bf16_) cuda::to_bf16(ctx_, static_cast<int64_t>(fold_w_.size()), fold_w_.data(), fold_w16_.data());
  folds_ready_ = true;
}

}  // namespace thaw

#endif  // THAW_HAVE_CUDA
