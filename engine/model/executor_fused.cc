// The CPU executor's batch norm, and the batch norm fused with its ReLU: one pass from the batch
// norm's input to the ReLU's output (frozen or training). Where a concatenation is the ReLU's only
// reader and no backward needs the ReLU's output (frozen, or any in evaluation: the Inception
// blocks' branch ends), that pass writes straight into the concatenation's channel slice, so that
// copy is never made. The same values as the unfused ops; only where they are stored changes.
#include <vector>

#include "core/error.h"
#include "engine/model/executor.h"
#include "graph/node_geometry.h"
#include "kernels/cpu/batchnorm.h"
#include "kernels/cpu/concat.h"

namespace thaw {

// A batch norm (training statistics where it trains under BnPolicy::Train, running ones otherwise)
// into y, samples y_stride apart (0: packed), with its ReLU applied when relu is set.
template <typename T>
void Executor<T>::forward_bn(int i, bool train, T* y, bool relu, int64_t y_stride) {
  const Node& n = g_.nodes[i];
  const T* x = out_[n.inputs[0]].data();
  const BnGeom bg = bn_geom(n, batch_);
  if (!train || plan_.bn != BnPolicy::Train) {
    cpu::batchnorm_forward_infer(bg, x, param(i, 0), param(i, 1), param(i, 2), param(i, 3), y, relu, y_stride);
    return;
  }
  THAW_CHECK(y_stride == 0, "a training batch norm writes a packed output");
  bn_mean_[i].reshape_uninit({n.out[0]});
  bn_invstd_[i].reshape_uninit({n.out[0]});
  if (collect_bn_stats_) {
    // With momentum 1 the kernel's running-statistics update from zeros yields exactly the batch
    // mean and unbiased variance, rounded to T.
    BnGeom once = bg;
    once.momentum = 1.0;
    bn_batch_mean_[i] = Tensor<T>({n.out[0]});
    bn_batch_var_[i] = Tensor<T>({n.out[0]});
    cpu::batchnorm_forward_train(once, x, param(i, 0), param(i, 1), bn_batch_mean_[i].data(),
                                 bn_batch_var_[i].data(), y, bn_mean_[i].data(), bn_invstd_[i].data(), relu);
  } else {
    cpu::batchnorm_forward_train(bg, x, param(i, 0), param(i, 1), param(i, 2), param(i, 3), y, bn_mean_[i].data(),
                                 bn_invstd_[i].data(), relu);
    ++state_.batches_tracked[n.tensors[4]];
  }
}

// The batch norm's output has no reader but its ReLU and is kept for no backward (a training batch
// norm's backward reads its input, the ReLU's its own output): the pair runs as one pass.
template <typename T>
bool Executor<T>::fuses_relu(int i, Phase phase) const {
  const size_t r = static_cast<size_t>(i) + 1;
  if (bf16_ || r >= g_.nodes.size() || static_cast<int>(r) > forward_last_) return false;
  const Node& relu = g_.nodes[r];
  return g_.nodes[i].kind == OpKind::BatchNorm && relu.kind == OpKind::Relu && relu.inputs.size() == 1 &&
         relu.inputs[0] == i && plan_.last_reader[i] == static_cast<int>(r) &&
         !(phase == Phase::Train && plan_.keep_output[i]);
}

// The ReLU's output is read by one concatenation only, once, within this forward, and kept for no
// backward: it need not exist apart from the concatenation's output.
template <typename T>
int Executor<T>::concat_taking_in_place(int relu, Phase phase) const {
  const int c = plan_.last_reader[relu];
  if (c <= relu || c > forward_last_ || g_.nodes[c].kind != OpKind::Concat) return -1;
  if (phase == Phase::Train && plan_.keep_output[relu]) return -1;
  int uses = 0;
  for (int src : g_.nodes[c].inputs) uses += src == relu ? 1 : 0;
  return uses == 1 ? c : -1;
}

template <typename T>
void Executor<T>::forward_bn_relu(int i, Phase phase) {
  const int r = i + 1;
  const int c = concat_taking_in_place(r, phase);
  T* y = nullptr;
  int64_t sample_stride = 0;
  if (c >= 0) {
    const Node& cat = g_.nodes[c];
    const int64_t hw = cat.out[1] * cat.out[2];
    int64_t channel = 0;
    for (int src : cat.inputs) {
      if (src == r) break;
      channel += g_.nodes[src].out[0];
    }
    Tensor<T>& dst = out_[c];
    if (dst.empty()) dst.reshape_uninit(batched(batch_, cat.out));
    y = dst.data() + channel * hw;
    sample_stride = cat.out[0] * hw;
    in_concat_[static_cast<size_t>(r)] = 1;
  } else {
    Tensor<T>& out = out_[r];
    out.reshape_uninit(batched(batch_, g_.nodes[r].out));
    y = out.data();
  }
  forward_bn(i, phase == Phase::Train && plan_.trainable[i], y, true, sample_stride);
  relu_written_[static_cast<size_t>(r)] = 1;
}

// The inputs not written in place are copied into their slices.
template <typename T>
void Executor<T>::forward_concat(int i) {
  const Node& n = g_.nodes[i];
  std::vector<cpu::ChannelSlice<const T>> parts;
  for (int src : n.inputs) {
    const bool placed = in_concat_[static_cast<size_t>(src)] != 0;
    in_concat_[static_cast<size_t>(src)] = 0;
    parts.push_back({placed ? nullptr : out_[src].data(), g_.nodes[src].out[0]});
  }
  cpu::concat_forward(batch_, n.out[1] * n.out[2], parts, out_[i].data());
}

#define THAW_INSTANTIATE(T)                                                    \
  template void Executor<T>::forward_bn(int, bool, T*, bool, int64_t);         \
  template bool Executor<T>::fuses_relu(int, Phase) const;                     \
  template int Executor<T>::concat_taking_in_place(int, Phase) const;          \
  template void Executor<T>::forward_bn_relu(int, Phase);                      \
  template void Executor<T>::forward_concat(int);
THAW_INSTANTIATE(float)
THAW_INSTANTIATE(double)
#undef THAW_INSTANTIATE

}  // namespace thaw
