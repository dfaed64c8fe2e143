#include "engine/model/executor.h"

#include <chrono>
#include <type_traits>

#include "core/bf16.h"
#include "core/error.h"
#include "engine/model/mixed_precision.h"
#include "graph/node_geometry.h"
#include "core/philox.h"
#include "kernels/cpu/batchnorm.h"
#include "kernels/cpu/concat.h"
#include "kernels/cpu/conv2d.h"
#include "kernels/cpu/dropout.h"
#include "kernels/cpu/linear.h"
#include "kernels/cpu/pool.h"
#include "kernels/cpu/relu.h"

namespace thaw {

template <typename T>
Executor<T>::Executor(const Graph& g, const Plan& plan, ModelState<T>& state)
    : g_(g), plan_(plan), state_(state) {
  const size_t n = g.nodes.size();
  out_.resize(n);
  dout_.resize(n);
  argmax_.resize(n);
  keep_mask_.resize(n);
  bn_mean_.resize(n);
  bn_invstd_.resize(n);
  bn_batch_mean_.resize(n);
  bn_batch_var_.resize(n);
  relu_written_.assign(n, 0);
  in_concat_.assign(n, 0);
  grads_.resize(g.tensors.size());
  for (int t : plan_.trainable_tensors) grads_[t] = Tensor<T>(g.tensors[t].shape);
}

template <typename T>
void Executor<T>::set_bf16(bool on) {
  if constexpr (std::is_same_v<T, float>) {
    bf16_ = on;
    working_.assign(on ? g_.tensors.size() : 0, Tensor<T>());
  } else {
    THAW_CHECK(!on, "the bf16 rule is emulated in fp32 only, not in an Executor<double>");
  }
}

template <typename T>
void Executor<T>::refresh_working_copies(int node) {
  if constexpr (std::is_same_v<T, float>) {
    if (!bf16_ || !bf16_weight_operands(g_.nodes[node].kind)) return;
    // A frozen node's weights never change under this executor: their copies are made once.
    const bool frozen = !plan_.trainable[node];
    for (int t : g_.nodes[node].tensors) {
      if (frozen && !working_[t].empty()) continue;
      working_[t] = state_.values[t];
      round_to_bf16(working_[t].data(), working_[t].numel());
    }
  }
}

template <typename T>
const T* Executor<T>::operand(int node, int k) {
  if (bf16_ && bf16_weight_operands(g_.nodes[node].kind)) return working_[g_.nodes[node].tensors[k]].data();
  return param(node, k);
}

template <typename T>
void Executor<T>::round_after_forward(int node) {
  if constexpr (std::is_same_v<T, float>) {
    if (bf16_) round_to_bf16(out_[node].data(), out_[node].numel());
  }
}

template <typename T>
template <typename F>
void Executor<T>::add_input_grad(Tensor<T>& dx, const F& add_into) {
  if (!bf16_) {
    add_into(dx.data());
    return;
  }
  // The GPU's library call writes its own bf16 result, which is then added into the gradient
  // (kernels/cuda/conv2d.h): rounded, then the sum rounded.
  Tensor<T> own(dx.shape());
  add_into(own.data());
  if constexpr (std::is_same_v<T, float>) round_to_bf16(own.data(), own.numel());
  for (int64_t e = 0; e < dx.numel(); ++e) dx[e] += own[e];
}

template <typename T>
void Executor<T>::round_after_backward(int node) {
  if constexpr (std::is_same_v<T, float>) {
    if (!bf16_) return;
    const Node& n = g_.nodes[node];
    // Each addition into an input's gradient is stored in bf16, as the GPU's buffer holds it.
    for (int src : n.inputs) {
      if (plan_.trainable[src] && !dout_[src].empty()) round_to_bf16(dout_[src].data(), dout_[src].numel());
    }
    if (bf16_weight_operands(n.kind)) {
      for (int t : n.tensors) round_to_bf16(grads_[t].data(), grads_[t].numel());
    }
  }
}

template <typename T>
const Tensor<T>& Executor<T>::forward(const Tensor<T>& x, Phase phase, const StepKey& key) {
  const Shape want = batched(x.rank() ? x.dim(0) : 0, g_.nodes[0].out);
  if (x.rank() != 4 || x.shape() != want) {
    fail_user("input batch: expected shape [N, ", want[1], ", ", want[2], ", ", want[3], "], got ", shape_str(x.shape()));
  }
  batch_ = x.dim(0);
  for (auto& o : out_) o.release();
  out_[0] = x;
  round_after_forward(0);
  forward_nodes(1, static_cast<int>(g_.nodes.size()) - 1, phase, key);
  return out_.back();
}

template <typename T>
void Executor<T>::forward_nodes(int first, int last, Phase phase, const StepKey& key) {
  forward_last_ = last;
  std::fill(relu_written_.begin(), relu_written_.end(), 0);
  std::fill(in_concat_.begin(), in_concat_.end(), 0);
  for (int i = first; i <= last; ++i) {
    forward_node(i, phase, key);
    // Free inputs as soon as their last reader has run, unless backward needs them.
    for (int in : g_.nodes[i].inputs) {
      const bool keep = phase == Phase::Train && plan_.keep_output[in];
      if (plan_.last_reader[in] == i && !keep) out_[in].release();
    }
  }
}

template <typename T>
const Tensor<T>& Executor<T>::forward_until(const Tensor<T>& x, int node, Phase phase) {
  const Shape want = batched(x.rank() ? x.dim(0) : 0, g_.nodes[0].out);
  if (x.rank() != 4 || x.shape() != want) {
    fail_user("input batch: expected shape [N, ", want[1], ", ", want[2], ", ", want[3], "], got ", shape_str(x.shape()));
  }
  THAW_CHECK(node >= 1 && node < static_cast<int>(g_.nodes.size()), "forward_until: node ", node, " out of range");
  batch_ = x.dim(0);
  for (auto& o : out_) o.release();
  out_[0] = x;
  round_after_forward(0);
  forward_nodes(1, node, phase, {});
  return out_[node];
}

template <typename T>
const Tensor<T>& Executor<T>::forward_from(int node, const Tensor<T>& activations, Phase phase, const StepKey& key) {
  const int last = g_.output_node();
  THAW_CHECK(node >= 0 && node < last, "forward_from: node ", node, " out of range");
  THAW_CHECK(activations.rank() >= 1 && activations.shape() == batched(activations.dim(0), g_.nodes[node].out),
             "forward_from: activations ", shape_str(activations.shape()), " do not match node ", g_.nodes[node].name);
  for (int i = node + 1; i <= last; ++i) {
    for (int in : g_.nodes[i].inputs) {
      THAW_CHECK(in >= node, "forward_from: node ", g_.nodes[i].name, " reads ", g_.nodes[in].name, " before ",
                 g_.nodes[node].name);
    }
  }
  batch_ = activations.dim(0);
  for (auto& o : out_) o.release();
  out_[node] = activations;
  round_after_forward(node);
  forward_nodes(node + 1, last, phase, key);
  return out_.back();
}

template <typename T>
template <typename F>
void Executor<T>::timed(int node, ProfilePart part, const F& f) {
  if (!profile_) {
    f();
    return;
  }
  const auto t0 = std::chrono::steady_clock::now();
  f();
  profile_->add(node, part, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
}

template <typename T>
void Executor<T>::forward_node(int i, Phase phase, const StepKey& key) {
  timed(i, ProfilePart::Forward, [&] {
    refresh_working_copies(i);
    forward_op(i, phase, key);
    round_after_forward(i);
  });
}

template <typename T>
void Executor<T>::forward_op(int i, Phase phase, const StepKey& key) {
  const Node& n = g_.nodes[i];
  const bool train = phase == Phase::Train && plan_.trainable[i];
  const Tensor<T>& x = out_[n.inputs[0]];
  const Shape& in = g_.nodes[n.inputs[0]].out;
  if (n.kind == OpKind::Relu && relu_written_[static_cast<size_t>(i)]) {
    relu_written_[static_cast<size_t>(i)] = 0;  // the batch norm before it wrote its output
    return;
  }
  if (fuses_relu(i, phase)) return forward_bn_relu(i, phase);
  Tensor<T>& y = out_[i];
  y.reshape_uninit(batched(batch_, n.out));
  switch (n.kind) {
    case OpKind::Conv: cpu::conv2d_forward(conv_geom(n, in, batch_), x.data(), operand(i, 0), y.data()); break;
    case OpKind::BatchNorm: forward_bn(i, train, y.data(), false, 0); break;
    case OpKind::Relu: cpu::relu_forward(y.numel(), x.data(), y.data()); break;
    case OpKind::MaxPool: {
      argmax_[i].resize(static_cast<size_t>(y.numel()));
      cpu::maxpool_forward(pool_geom(n, in, batch_), x.data(), y.data(), argmax_[i].data());
      if (!train) std::vector<int32_t>().swap(argmax_[i]);
      break;
    }
    case OpKind::AvgPool: cpu::avgpool_forward(pool_geom(n, in, batch_), x.data(), y.data()); break;
    case OpKind::Concat: forward_concat(i); break;
    case OpKind::GlobalAvgPool: cpu::global_avgpool_forward(batch_, in[0], in[1] * in[2], x.data(), y.data()); break;
    case OpKind::Dropout: {
      if (!train || n.dropout == 0.0) {
        std::copy(x.data(), x.data() + x.numel(), y.data());
        keep_mask_[i].clear();
        break;
      }
      const int64_t per = n.out[0];
      keep_mask_[i].resize(static_cast<size_t>(y.numel()));
      for (int64_t s = 0; s < batch_; ++s) {
        const CounterRng rng(key.seed, RngPurpose::Dropout, static_cast<uint32_t>(key.step),
                             static_cast<uint32_t>(key.sample_offset + s));
        for (int64_t e = 0; e < per; ++e) keep_mask_[i][s * per + e] = rng.uniform_double_at(e) >= n.dropout;
      }
      cpu::dropout_forward(y.numel(), n.dropout, keep_mask_[i].data(), x.data(), y.data());
      break;
    }
    case OpKind::Linear: {
      const LinearGeom lg{batch_, in[0], n.out[0]};
      cpu::linear_forward(lg, x.data(), operand(i, 0), operand(i, 1), y.data());
      break;
    }
    case OpKind::Input: fail_internal("input node inside the graph body");
  }
}

template <typename T>
Tensor<T>* Executor<T>::grad_of_input(int node, int which) {
  const int src = g_.nodes[node].inputs[which];
  // No input-gradient into the frozen boundary or the image.
  if (!plan_.trainable[src]) return nullptr;
  Tensor<T>& d = dout_[src];
  if (d.empty()) d = Tensor<T>(batched(batch_, g_.nodes[src].out));
  return &d;
}

template <typename T>
void Executor<T>::backward(const Tensor<T>& dlogits) {
  const int last = g_.output_node();
  THAW_CHECK(dlogits.shape() == out_[last].shape(), "dlogits ", shape_str(dlogits.shape()), " vs logits ",
             shape_str(out_[last].shape()));
  for (int t : plan_.trainable_tensors) grads_[t].fill(T{0});
  for (auto& d : dout_) d.release();
  if (!plan_.trainable[last]) {
    for (int i = last; i > 0; --i) tell_grads_ready(i);
    return;
  }
  dout_[last] = dlogits;
  if constexpr (std::is_same_v<T, float>) {
    if (bf16_) round_to_bf16(dout_[last].data(), dout_[last].numel());
  }
  for (int i = last; i > 0; --i) {
    if (!plan_.trainable[i]) continue;
    if (!dout_[i].empty()) {
      backward_node(i);
      dout_[i].release();
    }
    tell_grads_ready(i);  // node i was the only writer of its tensors' gradients
  }
  for (auto& o : out_) o.release();
}

template <typename T>
void Executor<T>::tell_grads_ready(int node) {
  if (!grad_ready_) return;
  for (int t : g_.nodes[node].tensors) {
    if (!grads_[t].empty()) grad_ready_(t);
  }
}

template <typename T>
void Executor<T>::backward_node(int i) {
  // A convolution times its two gradients apart (backward_op).
  if (g_.nodes[i].kind == OpKind::Conv) {
    backward_op(i);
    round_after_backward(i);
    return;
  }
  timed(i, ProfilePart::Backward, [&] {
    backward_op(i);
    round_after_backward(i);
  });
}

template <typename T>
void Executor<T>::backward_op(int i) {
  const Node& n = g_.nodes[i];
  const T* dy = dout_[i].data();
  const Shape& in = g_.nodes[n.inputs[0]].out;
  auto grad = [&](int k) { return grads_[n.tensors[k]].data(); };
  switch (n.kind) {
    case OpKind::Conv: {
      const ConvGeom cg = conv_geom(n, in, batch_);
      timed(i, ProfilePart::BackwardWeight, [&] { cpu::conv2d_backward_weight(cg, out_[n.inputs[0]].data(), dy, grad(0)); });
      if (Tensor<T>* dx = grad_of_input(i, 0)) {
        timed(i, ProfilePart::BackwardData, [&] {
          add_input_grad(*dx, [&](T* into) { cpu::conv2d_backward_data(cg, dy, operand(i, 0), into); });
        });
      }
      break;
    }
    case OpKind::BatchNorm: {
      const BnGeom bg = bn_geom(n, batch_);
      Tensor<T>* dx = grad_of_input(i, 0);
      T* dxp = dx ? dx->data() : nullptr;
      const T* x = out_[n.inputs[0]].data();
      if (plan_.bn == BnPolicy::Train) {
        cpu::batchnorm_backward_train(bg, x, dy, param(i, 0), bn_mean_[i].data(), bn_invstd_[i].data(), dxp, grad(0),
                                      grad(1));
      } else {
        cpu::batchnorm_backward_infer(bg, x, dy, param(i, 0), param(i, 2), param(i, 3), dxp, grad(0), grad(1));
      }
      break;
    }
    case OpKind::Relu:
      if (Tensor<T>* dx = grad_of_input(i, 0)) cpu::relu_backward(dout_[i].numel(), out_[i].data(), dy, dx->data());
      break;
    case OpKind::MaxPool:
      if (Tensor<T>* dx = grad_of_input(i, 0)) cpu::maxpool_backward(pool_geom(n, in, batch_), dy, argmax_[i].data(), dx->data());
      break;
    case OpKind::AvgPool:
      if (Tensor<T>* dx = grad_of_input(i, 0)) cpu::avgpool_backward(pool_geom(n, in, batch_), dy, dx->data());
      break;
    case OpKind::Concat: {
      std::vector<cpu::ChannelSlice<T>> parts;
      for (size_t k = 0; k < n.inputs.size(); ++k) {
        Tensor<T>* dx = grad_of_input(i, static_cast<int>(k));
        parts.push_back({dx ? dx->data() : nullptr, g_.nodes[n.inputs[k]].out[0]});
      }
      cpu::concat_backward(batch_, n.out[1] * n.out[2], dy, parts);
      break;
    }
    case OpKind::GlobalAvgPool:
      if (Tensor<T>* dx = grad_of_input(i, 0)) cpu::global_avgpool_backward(batch_, in[0], in[1] * in[2], dy, dx->data());
      break;
    case OpKind::Dropout:
      if (Tensor<T>* dx = grad_of_input(i, 0)) {
        if (keep_mask_[i].empty()) {
          for (int64_t e = 0; e < dx->numel(); ++e) (*dx)[e] += dy[e];
        } else {
          cpu::dropout_backward(dx->numel(), n.dropout, keep_mask_[i].data(), dy, dx->data());
        }
      }
      break;
    case OpKind::Linear: {
      const LinearGeom lg{batch_, in[0], n.out[0]};
      const T* x = out_[n.inputs[0]].data();
      Tensor<T>* dx = grad_of_input(i, 0);
      if (!dx) {
        cpu::linear_backward(lg, x, operand(i, 0), dy, static_cast<T*>(nullptr), grad(0), grad(1));
      } else {
        add_input_grad(*dx, [&](T* into) { cpu::linear_backward(lg, x, operand(i, 0), dy, into, grad(0), grad(1)); });
      }
      break;
    }
    case OpKind::Input: break;
  }
}

template class Executor<float>;
template class Executor<double>;

}  // namespace thaw
