// CudaExecutor's per-node forward and backward, for activations of storage type S: float, or bf16
// under the bf16 rule (engine/model/mixed_precision.h), where every op reads bf16, computes in fp32
// and stores bf16, and the conv and linear weights are read from their bf16 working copies.
#include "engine/gpu/cuda_executor.h"

#if THAW_HAVE_CUDA

#include <type_traits>

#include "core/error.h"
#include "graph/node_geometry.h"
#include "kernels/cuda/accumulate.h"
#include "kernels/cuda/avgpool.h"
#include "kernels/cuda/batchnorm.h"
#include "kernels/cuda/channels_last.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/concat.h"
#include "kernels/cuda/conv2d.h"
#include "kernels/cuda/convert.h"
#include "kernels/cuda/dropout.h"
#include "kernels/cuda/fold_bn.h"
#include "kernels/cuda/global_avgpool.h"
#include "kernels/cuda/linear.h"
#include "kernels/cuda/maxpool.h"
#include "kernels/cuda/relu.h"

namespace thaw {

template <typename S>
S* CudaExecutor::out_as(int node) {
  if (node == 0) {
    if (image_channels_last()) return reinterpret_cast<S*>(input_cl_.data());
    if constexpr (std::is_same_v<S, cuda::bf16>) return input16_.data();
    // The image is the caller's and only ever read.
    else return const_cast<float*>(input_);
  }
  return arena_at<S>(StepBufferKind::Output, node);
}

template <typename S>
S* CudaExecutor::dout(int node) {
  if (node == g_.output_node()) return static_cast<S*>(const_cast<void*>(dlogits_in_));
  return arena_at<S>(StepBufferKind::OutputGrad, node);
}

template <typename S>
const S* CudaExecutor::weight(int node, int k) {
  const int t = g_.nodes[node].tensors[k];
  if (k == 0 && krsc_at_[static_cast<size_t>(node)] >= 0) {  // a convolution under ChannelsLast::all
    return reinterpret_cast<const S*>(krsc_.data()) + krsc_at_[static_cast<size_t>(node)];
  }
  if constexpr (std::is_same_v<S, cuda::bf16>) {
    return working_.data() + value_offset_[t];
  } else {
    return values_.data() + value_offset_[t];
  }
}

template <typename S>
void CudaExecutor::forward_node(int i, Phase phase, const StepKey& key) {
  const Node& n = g_.nodes[i];
  const bool train = phase == Phase::Train && plan_.trainable[i];
  const S* x = out_as<S>(n.inputs[0]);
  const Shape& in = g_.nodes[n.inputs[0]].out;
  const bool fused_relu = bn_relu_[static_cast<size_t>(i)] != 0;  // a batch norm that writes its ReLU's output
  S* y = out_as<S>(fused_relu ? i + 1 : i);
  const int64_t count = batch_ * shape_numel(n.out);
  switch (n.kind) {
    case OpKind::Conv:
      cuda::conv2d_forward<S>(ctx_, conv_geom_at(i), x, weight<S>(i, 0), y, cuda::ConvLayout{nhwc_all_});
      break;
    case OpKind::BatchNorm: {
      const BnGeom bg = bn_geom(n, batch_);
      if (train && plan_.bn == BnPolicy::Train && !bn_sink_.empty()) {
        // As the CPU executor collects them: with momentum 1, the running-statistics update from
        // zeros leaves exactly the batch mean and unbiased variance, rounded to float.
        float* sink = bn_sink_[static_cast<size_t>(i)];
        THAW_CHECK(sink != nullptr, "no batch-statistics destination for ", n.name);
        BnGeom once = bg;
        once.momentum = 1.0;
        THAW_CUDA_CHECK(cudaMemsetAsync(sink, 0, 2 * static_cast<size_t>(n.out[0]) * sizeof(float), ctx_.stream()));
        cuda::batchnorm_forward_train<S>(ctx_, once, x, param(i, 0), param(i, 1), sink, sink + n.out[0], y,
                                         arena_at<float>(StepBufferKind::BnMean, i),
                                         arena_at<float>(StepBufferKind::BnInvstd, i), fused_relu, layout());
      } else if (train && plan_.bn == BnPolicy::Train) {
        cuda::batchnorm_forward_train<S>(ctx_, bg, x, param(i, 0), param(i, 1), param(i, 2), param(i, 3), y,
                                         arena_at<float>(StepBufferKind::BnMean, i),
                                         arena_at<float>(StepBufferKind::BnInvstd, i), fused_relu, layout());
        ++batches_tracked_[n.tensors[4]];
      } else {
        cuda::batchnorm_forward_infer<S>(ctx_, bg, x, param(i, 0), param(i, 1), param(i, 2), param(i, 3), y,
                                         fused_relu, layout());
      }
      break;
    }
    case OpKind::Relu: cuda::relu_forward<S>(ctx_, count, x, y); break;
    case OpKind::MaxPool:
      cuda::maxpool_forward<S>(ctx_, pool_geom(n, in, batch_), x, y, arena_at<int32_t>(StepBufferKind::Argmax, i),
                               layout());
      break;
    case OpKind::AvgPool: cuda::avgpool_forward<S>(ctx_, pool_geom(n, in, batch_), x, y, layout()); break;
    case OpKind::Concat:
      cuda::concat_forward<S>(ctx_, batch_, n.out[1] * n.out[2], concat_parts<S>(i), y, layout());
      break;
    case OpKind::GlobalAvgPool: cuda::global_avgpool_forward<S>(ctx_, batch_, in[0], in[1] * in[2], x, y, layout()); break;
    case OpKind::Dropout: {
      if (!train || n.dropout == 0.0) {
        THAW_CUDA_CHECK(cudaMemcpyAsync(y, x, static_cast<size_t>(count) * sizeof(S), cudaMemcpyDeviceToDevice,
                                        ctx_.stream()));
        break;
      }
      // The CPU executor's mask, made on the device (no upload, no wait): element e of sample s
      // from (seed, step, offset + s).
      uint8_t* keep = arena_at<uint8_t>(StepBufferKind::DropoutMask, i);
      if (device_key_) {
        cuda::dropout_mask_at(ctx_, device_key_, batch_, n.out[0], n.dropout, keep);
      } else {
        cuda::dropout_mask(ctx_, key.seed, key.step, key.sample_offset, batch_, n.out[0], n.dropout, keep);
      }
      cuda::dropout_forward<S>(ctx_, count, n.dropout, keep, x, y);
      break;
    }
    case OpKind::Linear: {
      if constexpr (std::is_same_v<S, cuda::bf16>) {
        linear_forward_bf16(i, x, y);
      } else {
        cuda::linear_forward(ctx_, LinearGeom{batch_, in[0], n.out[0]}, x, param(i, 0), param(i, 1), y);
      }
      break;
    }
    case OpKind::Input: fail_internal("input node inside the graph body");
  }
}

template <typename S>
std::vector<cuda::ChannelSlice<const S>> CudaExecutor::concat_parts(int i) {
  std::vector<cuda::ChannelSlice<const S>> parts;
  for (int src : g_.nodes[static_cast<size_t>(i)].inputs) {
    const bool placed = slots_[static_cast<size_t>(src)].concat == i;
    parts.push_back({placed ? nullptr : out_as<S>(src), g_.nodes[static_cast<size_t>(src)].out[0]});
  }
  return parts;
}

template <typename S>
S* CudaExecutor::front_out(int node) {
  return node == cl_end_ ? arena_at<S>(StepBufferKind::ChannelsLast, node) : out_as<S>(node);
}

template <typename S>
void CudaExecutor::forward_folded(int i) {
  const Node& n = g_.nodes[i];
  const ConvGeom cg = conv_geom_at(i);
  const bool nhwc = nhwc_all_ || i <= cl_end_;
  // The group's ReLU output (engine/gpu/buffer_plan.h), or its slice of the concatenation's output:
  // channel `slot.channel` of a tensor of the concatenation's channels.
  const ConcatSlot& slot = slots_[static_cast<size_t>(i + 2)];
  const int64_t hw = n.out[1] * n.out[2];
  const int64_t wide = slot.concat >= 0 ? g_.nodes[static_cast<size_t>(slot.concat)].out[0] : 0;
  // (front_out is out_as past the channels-last front.)
  S* y = slot.concat >= 0 ? front_out<S>(slot.concat) + slot.channel * (nhwc ? 1 : hw) : front_out<S>(i + 2);
  const S* w = nullptr;
  if constexpr (std::is_same_v<S, cuda::bf16>) {
    w = fold_w16_.data() + fold_w_at_[i];
  } else {
    w = fold_w_.data() + fold_w_at_[i];
  }
  const float* b = fold_b_.data() + fold_b_at_[i];
  const cuda::ConvLayout layout{nhwc, wide};
  if (fused_epilogue_ && cuda::conv2d_forward_bias_relu<S>(ctx_, cg, out_as<S>(n.inputs[0]), w, b, y, layout)) {
    ++fused_groups_;
    return;
  }
  cuda::conv2d_forward<S>(ctx_, cg, out_as<S>(n.inputs[0]), w, y, layout);
  if (nhwc) {
    cuda::bias_relu_nhwc<S>(ctx_, batch_ * hw, n.out[0], b, y, wide);
  } else {
    cuda::bias_relu<S>(ctx_, batch_, n.out[0], hw, b, y, wide * hw);
  }
}

template <typename S>
void CudaExecutor::forward_front(int i) {
  const Node& n = g_.nodes[i];
  const Shape& in = g_.nodes[n.inputs[0]].out;
  int written = i;  // the node whose output this op completes
  switch (n.kind) {
    case OpKind::Conv:
      THAW_CHECK(folded_[static_cast<size_t>(i)], n.name, " is in the channels-last front but not folded");
      forward_folded<S>(i);
      written = i + 2;
      break;
    case OpKind::MaxPool:  // frozen: no argmax kept
      cuda::maxpool_forward<S>(ctx_, pool_geom(n, in, batch_), out_as<S>(n.inputs[0]), front_out<S>(i), nullptr,
                               cuda::Layout::nhwc);
      break;
    case OpKind::AvgPool:
      cuda::avgpool_forward<S>(ctx_, pool_geom(n, in, batch_), out_as<S>(n.inputs[0]), front_out<S>(i),
                               cuda::Layout::nhwc);
      break;
    case OpKind::Concat:
      cuda::concat_forward<S>(ctx_, batch_, n.out[1] * n.out[2], concat_parts<S>(i), front_out<S>(i),
                              cuda::Layout::nhwc);
      break;
    default: fail_internal(n.name, ": no channels-last forward for this op");
  }
  if (written != cl_end_) return;
  const Shape& out = g_.nodes[static_cast<size_t>(written)].out;
  cuda::nhwc_to_nchw<S>(ctx_, batch_, out[0], out[1] * out[2], front_out<S>(written), out_as<S>(written));
}

template <typename S>
S* CudaExecutor::grad_target(int node, int which, cuda::OutputMode* mode) {
  const int src = g_.nodes[node].inputs[which];
  // No input-gradient into the frozen boundary or the image.
  if (!plan_.trainable[src]) return nullptr;
  S* d = dout<S>(src);
  if (grad_started_[src]) {
    if (mode) *mode = cuda::OutputMode::accumulate;
    return d;
  }
  grad_started_[src] = 1;
  if (mode) {
    *mode = cuda::OutputMode::overwrite;
  } else {
    const int64_t count = batch_ * shape_numel(g_.nodes[src].out);
    THAW_CUDA_CHECK(cudaMemsetAsync(d, 0, static_cast<size_t>(count) * sizeof(S), ctx_.stream()));
  }
  return d;
}

template <typename S>
void CudaExecutor::conv_backward(int i, const S* dy) {
  const Node& n = g_.nodes[i];
  const ConvGeom cg = conv_geom_at(i);
  // The weight is read by this node only, and the gradients were zeroed: write it.
  timed(i, ProfilePart::BackwardWeight, [&] {
    if (nhwc_all_) {  // [k, r, s, c], then into the master's layout (exact)
      S* dw = nullptr;
      if constexpr (std::is_same_v<S, cuda::bf16>) {
        dw = wgrad16_.data();
      } else {
        dw = wgrad32_.data();
      }
      cuda::conv2d_backward_weight<S>(ctx_, cg, out_as<S>(n.inputs[0]), dy, dw, cuda::OutputMode::overwrite, true);
      const int64_t c = g_.tensors[n.tensors[0]].shape[1];  // the image's padding channels dropped
      cuda::krsc_to_kcrs<S>(ctx_, cg.c_out, c, cg.kh * cg.kw, dw, grad(i, 0), cg.c_in);
    } else if constexpr (std::is_same_v<S, cuda::bf16>) {
      cuda::conv2d_backward_weight<S>(ctx_, cg, out_as<S>(n.inputs[0]), dy, wgrad16_.data(),
                                      cuda::OutputMode::overwrite);
      cuda::to_float(ctx_, cg.w_size(), wgrad16_.data(), grad(i, 0));
    } else {
      cuda::conv2d_backward_weight(ctx_, cg, out(n.inputs[0]), dy, grad(i, 0), cuda::OutputMode::overwrite);
    }
  });
  cuda::OutputMode mode{};
  if (S* dx = grad_target<S>(i, 0, &mode)) {
    timed(i, ProfilePart::BackwardData,
          [&] { cuda::conv2d_backward_data<S>(ctx_, cg, dy, weight<S>(i, 0), dx, mode, nhwc_all_); });
  }
}

template <typename S>
void CudaExecutor::backward_node(int i) {
  const Node& n = g_.nodes[i];
  // A batch norm fused with its ReLU starts from the ReLU's gradient, masked by its output.
  const bool fused_relu = bn_relu_[static_cast<size_t>(i)] != 0;
  const S* dy = dout<S>(fused_relu ? i + 1 : i);
  const S* relu_y = fused_relu ? out_as<S>(i + 1) : nullptr;
  const Shape& in = g_.nodes[n.inputs[0]].out;
  const int64_t count = batch_ * shape_numel(n.out);
  switch (n.kind) {
    case OpKind::Conv: conv_backward<S>(i, dy); break;
    case OpKind::BatchNorm: {
      const BnGeom bg = bn_geom(n, batch_);
      S* dx = grad_target<S>(i, 0, nullptr);
      const S* x = out_as<S>(n.inputs[0]);
      if (plan_.bn == BnPolicy::Train) {
        cuda::batchnorm_backward_train<S>(ctx_, bg, x, dy, param(i, 0), arena_at<float>(StepBufferKind::BnMean, i),
                                          arena_at<float>(StepBufferKind::BnInvstd, i), dx, grad(i, 0), grad(i, 1),
                                          relu_y, layout());
      } else {
        cuda::batchnorm_backward_infer<S>(ctx_, bg, x, dy, param(i, 0), param(i, 2), param(i, 3), dx, grad(i, 0),
                                          grad(i, 1), relu_y, layout());
      }
      break;
    }
    case OpKind::Relu:
      if (S* dx = grad_target<S>(i, 0, nullptr)) cuda::relu_backward<S>(ctx_, count, out_as<S>(i), dy, dx);
      break;
    case OpKind::MaxPool:
      if (S* dx = grad_target<S>(i, 0, nullptr)) {
        cuda::maxpool_backward<S>(ctx_, pool_geom(n, in, batch_), dy, arena_at<int32_t>(StepBufferKind::Argmax, i), dx,
                                  layout());
      }
      break;
    case OpKind::AvgPool:
      if (S* dx = grad_target<S>(i, 0, nullptr)) {
        cuda::avgpool_backward<S>(ctx_, pool_geom(n, in, batch_), dy, dx, layout());
      }
      break;
    case OpKind::Concat: {
      std::vector<cuda::ChannelSlice<S>> parts;
      for (size_t k = 0; k < n.inputs.size(); ++k) {
        parts.push_back({grad_target<S>(i, static_cast<int>(k), nullptr), g_.nodes[n.inputs[k]].out[0]});
      }
      cuda::concat_backward<S>(ctx_, batch_, n.out[1] * n.out[2], dy, parts, layout());
      break;
    }
    case OpKind::GlobalAvgPool:
      if (S* dx = grad_target<S>(i, 0, nullptr)) {
        cuda::global_avgpool_backward<S>(ctx_, batch_, in[0], in[1] * in[2], dy, dx, layout());
      }
      break;
    case OpKind::Dropout: {
      if (n.dropout > 0.0) {
        if (S* dx = grad_target<S>(i, 0, nullptr)) {
          cuda::dropout_backward<S>(ctx_, count, n.dropout, arena_at<uint8_t>(StepBufferKind::DropoutMask, i), dy, dx);
        }
        break;
      }
      cuda::OutputMode mode{};
      if (S* dx = grad_target<S>(i, 0, &mode)) {
        if (mode == cuda::OutputMode::overwrite) {
          THAW_CUDA_CHECK(cudaMemcpyAsync(dx, dy, static_cast<size_t>(count) * sizeof(S), cudaMemcpyDeviceToDevice,
                                          ctx_.stream()));
        } else {
          cuda::accumulate<S>(ctx_, count, dy, dx);
        }
      }
      break;
    }
    case OpKind::Linear:
      if constexpr (std::is_same_v<S, cuda::bf16>) {
        linear_backward_bf16(i, out_as<S>(n.inputs[0]), dy);
      } else {
        linear_backward_fp32(i, dy);
      }
      break;
    case OpKind::Input: break;
  }
}

void CudaExecutor::linear_backward_fp32(int i, const float* dy) {
  const Node& n = g_.nodes[i];
  const LinearGeom lg{batch_, g_.nodes[n.inputs[0]].out[0], n.out[0]};
  const float* x = out(n.inputs[0]);
  cuda::linear_backward(ctx_, lg, x, param(i, 0), dy, nullptr, grad(i, 0), grad(i, 1), cuda::OutputMode::overwrite);
  cuda::OutputMode mode{};
  if (float* dx = grad_target<float>(i, 0, &mode)) {
    cuda::linear_backward(ctx_, lg, x, param(i, 0), dy, dx, nullptr, nullptr, mode);
  }
}

namespace {

// Where linear32_ holds the classifier's fp32 operands under the bf16 rule: x [batch, in], w [out,
// in], b [out], y or dy [batch, out], dx [batch, in], each at a 256-byte boundary (what cuBLASLt is
// promised for every operand).
struct LinearScratch {
  int64_t x = 0, w = 0, b = 0, y = 0, dx = 0, floats = 0;
  explicit LinearScratch(const LinearGeom& g) {
    auto next = [this](int64_t count) {
      const int64_t at = floats;
      floats += (count + 63) / 64 * 64;
      return at;
    };
    x = next(g.n * g.in);
    w = next(g.out * g.in);
    b = next(g.out);
    y = next(g.n * g.out);
    dx = next(g.n * g.in);
  }
};

}  // namespace

int64_t CudaExecutor::linear_scratch_floats(const LinearGeom& g) { return LinearScratch(g).floats; }

void CudaExecutor::linear_forward_bf16(int i, const cuda::bf16* x, cuda::bf16* y) {
  const Node& n = g_.nodes[i];
  const LinearGeom lg{batch_, g_.nodes[n.inputs[0]].out[0], n.out[0]};
  const LinearScratch at(lg);
  float* base = linear32_.data();
  cuda::to_float(ctx_, lg.n * lg.in, x, base + at.x);
  cuda::to_float(ctx_, lg.out * lg.in, weight<cuda::bf16>(i, 0), base + at.w);
  cuda::to_float(ctx_, lg.out, weight<cuda::bf16>(i, 1), base + at.b);
  cuda::linear_forward(ctx_, lg, base + at.x, base + at.w, base + at.b, base + at.y);
  cuda::to_bf16(ctx_, lg.n * lg.out, base + at.y, y);
}

void CudaExecutor::linear_backward_bf16(int i, const cuda::bf16* x, const cuda::bf16* dy) {
  const Node& n = g_.nodes[i];
  const LinearGeom lg{batch_, g_.nodes[n.inputs[0]].out[0], n.out[0]};
  const LinearScratch at(lg);
  float* base = linear32_.data();
  float *x32 = base + at.x, *w32 = base + at.w, *dy32 = base + at.y, *dx32 = base + at.dx;
  cuda::to_float(ctx_, lg.n * lg.in, x, x32);
  cuda::to_float(ctx_, lg.out * lg.in, weight<cuda::bf16>(i, 0), w32);
  cuda::to_float(ctx_, lg.n * lg.out, dy, dy32);
  cuda::linear_backward(ctx_, lg, x32, w32, dy32, nullptr, grad(i, 0), grad(i, 1), cuda::OutputMode::overwrite);
  // The rule rounds the classifier's weight and bias gradients to bf16 before the fp32 optimizer.
  cuda::round_to_bf16(ctx_, lg.out * lg.in, grad(i, 0));
  cuda::round_to_bf16(ctx_, lg.out, grad(i, 1));
  cuda::OutputMode mode{};
  cuda::bf16* dx = grad_target<cuda::bf16>(i, 0, &mode);
  if (!dx) return;
  cuda::linear_backward(ctx_, lg, x32, w32, dy32, dx32, nullptr, nullptr, cuda::OutputMode::overwrite);
  if (mode == cuda::OutputMode::overwrite) {
    cuda::to_bf16(ctx_, lg.n * lg.in, dx32, dx);
  } else {
    cuda::to_bf16(ctx_, lg.n * lg.in, dx32, linear16_.data());
    cuda::accumulate<cuda::bf16>(ctx_, lg.n * lg.in, linear16_.data(), dx);
  }
}

template void CudaExecutor::forward_node<float>(int, Phase, const StepKey&);
template void CudaExecutor::forward_node<cuda::bf16>(int, Phase, const StepKey&);
template void CudaExecutor::forward_folded<float>(int);
template void CudaExecutor::forward_folded<cuda::bf16>(int);
template void CudaExecutor::forward_front<float>(int);
template void CudaExecutor::forward_front<cuda::bf16>(int);
template void CudaExecutor::backward_node<float>(int);
template void CudaExecutor::backward_node<cuda::bf16>(int);
template float* CudaExecutor::out_as<float>(int);
template cuda::bf16* CudaExecutor::out_as<cuda::bf16>(int);

}  // namespace thaw

#endif  // THAW_HAVE_CUDA
