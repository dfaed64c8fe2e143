// CudaExecutor's channels-last storage (engine/gpu/op_fusions.h ChannelsLast): the scope's setup,
// the convolutions' [k, r, s, c] weight copies under ChannelsLast::all, and activations downloaded
// for tests put back in NCHW order.
#include "engine/gpu/cuda_executor.h"

#if THAW_HAVE_CUDA

#include <algorithm>
#include <utility>

#include "engine/gpu/op_fusions.h"
#include "engine/gpu/tensor_align.h"
#include "graph/node_geometry.h"
#include "kernels/cuda/channels_last.h"

namespace thaw {

int64_t CudaExecutor::image_channels_stored() const {
  const int64_t c = g_.nodes[0].out[0];
  return image_channels_last() ? cuda::pixel_channels(c) : c;
}

int64_t CudaExecutor::filter_channels_stored(int node) const {
  const Node& n = g_.nodes[static_cast<size_t>(node)];
  return n.inputs[0] == 0 ? image_channels_stored() : g_.nodes[static_cast<size_t>(n.inputs[0])].out[0];
}

ConvGeom CudaExecutor::conv_geom_at(int node) const {
  const Node& n = g_.nodes[static_cast<size_t>(node)];
  ConvGeom cg = conv_geom(n, g_.nodes[static_cast<size_t>(n.inputs[0])].out, batch_);
  cg.c_in = filter_channels_stored(node);
  return cg;
}

void CudaExecutor::set_channels_last(ChannelsLast scope) {
  channels_last_ = scope == ChannelsLast::front;
  nhwc_all_ = scope == ChannelsLast::all;
  layout_channels_last();
}

// Called again by set_fold_frozen: the front and the copies depend on which groups are folded.
void CudaExecutor::layout_channels_last() {
  cl_end_ = channels_last_ ? thaw::channels_last_end(g_, plan_, folded_) : -1;
  // A channels-last image holds padded pixels that only a convolution reads right (conv_geom_at);
  // dropout's mask and the classifier index [n, c] and have no channels-last form.
  for (size_t i = 1; image_channels_last() && i < g_.nodes.size(); ++i) {
    const Node& n = g_.nodes[i];
    for (int in : n.inputs) {
      THAW_CHECK(in != 0 || n.kind == OpKind::Conv, n.name, " reads the image, which is stored channels-last and "
                 "padded for convolutions only");
    }
    const Shape& in = g_.nodes[static_cast<size_t>(n.inputs.empty() ? 0 : n.inputs[0])].out;
    THAW_CHECK(!nhwc_all_ || (n.kind != OpKind::Dropout && n.kind != OpKind::Linear) || shape_numel(in) == in[0],
               n.name, " reads a spatial tensor, which has no channels-last form for its op");
  }
  krsc_at_.assign(g_.nodes.size(), -1);
  int64_t at = 0, largest = 1;
  for (size_t i = 0; nhwc_all_ && i < g_.nodes.size(); ++i) {
    // A folded group reads its folded weights, kept [k, r, s, c] by prepare_folds.
    if (g_.nodes[i].kind != OpKind::Conv || folded_[i]) continue;
    const Shape& ws = g_.tensors[g_.nodes[i].tensors[0]].shape;
    const int64_t count = ws[0] * filter_channels_stored(static_cast<int>(i)) * ws[2] * ws[3];
    krsc_at_[i] = at;
    at += align_floats(count);
    largest = std::max(largest, count);
  }
  const size_t elem = bf16_ ? sizeof(cuda::bf16) : sizeof(float);
  krsc_ = cuda::DeviceBuffer<unsigned char>(static_cast<size_t>(at) * elem);
  wgrad32_ = cuda::DeviceBuffer<float>(nhwc_all_ && !bf16_ ? static_cast<size_t>(largest) : 0);
  if (bf16_ && wgrad16_.size() < static_cast<size_t>(largest)) {
    wgrad16_ = cuda::DeviceBuffer<cuda::bf16>(static_cast<size_t>(largest));  // with the image's padding
  }
  krsc_frozen_ready_ = false;
  folds_ready_ = false;  // the folded weights' layout follows the scope
  mem_.reset();
}

void CudaExecutor::refresh_krsc_weights() {
  for (size_t i = 0; i < g_.nodes.size(); ++i) {
    if (krsc_at_[i] < 0) continue;
    // Frozen masters change only on upload; trainable ones at every step.
    if (!plan_.trainable[i] && krsc_frozen_ready_) continue;
    const int node = static_cast<int>(i);
    const Shape& ws = g_.tensors[g_.nodes[i].tensors[0]].shape;
    // Rounding commutes with the transpose: a bf16 copy is the bf16 working copy's bits, reordered.
    const int64_t cs = filter_channels_stored(node);
    if (bf16_) {
      cuda::nchw_to_nhwc<cuda::bf16>(ctx_, ws[0], ws[1], ws[2] * ws[3], param(node, 0),
                                     reinterpret_cast<cuda::bf16*>(krsc_.data()) + krsc_at_[i], cs);
    } else {
      cuda::nchw_to_nhwc<float>(ctx_, ws[0], ws[1], ws[2] * ws[3], param(node, 0),
                                reinterpret_cast<float*>(krsc_.data()) + krsc_at_[i], cs);
    }
  }
  krsc_frozen_ready_ = true;
}

template <typename T>
std::vector<T> CudaExecutor::to_nchw_order(int node, std::vector<T> stored) const {
  const Shape& s = g_.nodes[static_cast<size_t>(node)].out;
  if (!nhwc_all_ || s.size() != 3 || s[1] * s[2] == 1) return stored;
  const int64_t c = s[0], hw = s[1] * s[2];
  return cuda::swap_inner_axes(stored, static_cast<int64_t>(stored.size()) / (c * hw), hw, c);
}

template std::vector<float> CudaExecutor::to_nchw_order<float>(int, std::vector<float>) const;
template std::vector<int32_t> CudaExecutor::to_nchw_order<int32_t>(int, std::vector<int32_t>) const;

}  // namespace thaw

#endif  // THAW_HAVE_CUDA
