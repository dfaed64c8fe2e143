#include "engine/gpu/cuda_executor.h"

#if THAW_HAVE_CUDA

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "graph/node_geometry.h"
#include "core/philox.h"
#include "kernels/cuda/accumulate.h"
#include "kernels/cuda/avgpool.h"
#include "kernels/cuda/batchnorm.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/concat.h"
#include "kernels/cuda/conv2d.h"
#include "kernels/cuda/dropout.h"
#include "kernels/cuda/global_avgpool.h"
#include "kernels/cuda/linear.h"
#include "kernels/cuda/loss.h"
#include "kernels/cuda/maxpool.h"
#include "kernels/cuda/relu.h"

namespace thaw {

namespace {

// Tensor starts inside the value and gradient allocations: 64 floats = 256 bytes, the alignment
// cuDNN and cuBLASLt are given for every operand.
constexpr int64_t kTensorAlign = 64;

int64_t align_floats(int64_t v) { return (v + kTensorAlign - 1) / kTensorAlign * kTensorAlign; }

void copy_to_host(cuda::Context& ctx, float* dst, const float* src, int64_t count, const char* what) {
  if (count <= 0) return;
  THAW_CUDA_CHECK_CTX(cudaMemcpyAsync(dst, src, static_cast<size_t>(count) * sizeof(float), cudaMemcpyDeviceToHost,
                                      ctx.stream()),
                      what);
  ctx.synchronize(what);
}

// Names the node and the direction in any failure of the ops below it.
template <typename F>
void with_node_context(const Node& n, const char* direction, const F& f) {
  try {
    f();
  } catch (const UserError&) {
    throw;
  } catch (const std::exception& e) {
    fail_internal("cuda ", direction, " of node ", n.name, " (", op_kind_name(n.kind), "): ", e.what());
  }
}

}  // namespace

CudaExecutor::CudaExecutor(cuda::Context& ctx, const Graph& g, const Plan& plan, const ModelState<float>& state)
    : ctx_(ctx), g_(g), plan_(plan) {
  const size_t nt = g.tensors.size();
  THAW_CHECK(plan_.trainable.size() == g.nodes.size(), "plan for ", plan_.trainable.size(), " nodes, graph of ",
             g.nodes.size());
  value_offset_.assign(nt, -1);
  grad_offset_.assign(nt, -1);
  // Trainable tensors first, in plan order, at the same offsets in values and gradients.
  int64_t at = 0;
  for (int t : plan_.trainable_tensors) {
    value_offset_[t] = grad_offset_[t] = at;
    at += align_floats(shape_numel(g.tensors[t].shape));
  }
  trainable_span_ = at;
  for (size_t t = 0; t < nt; ++t) {
    if (value_offset_[t] >= 0 || g.tensors[t].role == TensorRole::NumBatchesTracked) continue;
    value_offset_[t] = at;
    at += align_floats(shape_numel(g.tensors[t].shape));
  }
  values_ = cuda::DeviceBuffer<float>(static_cast<size_t>(std::max<int64_t>(at, kTensorAlign)));
  grads_ = cuda::DeviceBuffer<float>(static_cast<size_t>(std::max<int64_t>(trainable_span_, kTensorAlign)));
  grads_.fill_bytes(0, ctx_.stream());
  grad_started_.assign(g.nodes.size(), 0);
  upload(state);
}

void CudaExecutor::upload(const ModelState<float>& state) {
  THAW_CHECK(state.values.size() == g_.tensors.size() && state.batches_tracked.size() == g_.tensors.size(),
             "model state of ", state.values.size(), " tensors for a graph of ", g_.tensors.size());
  std::vector<float> host(values_.size(), 0.0f);  // the gaps stay zero
  for (size_t t = 0; t < g_.tensors.size(); ++t) {
    if (value_offset_[t] < 0) continue;
    const Tensor<float>& v = state.values[t];
    THAW_CHECK(v.shape() == g_.tensors[t].shape, "state tensor ", g_.tensors[t].name, " has shape ",
               shape_str(v.shape()), ", expected ", shape_str(g_.tensors[t].shape));
    std::copy(v.data(), v.data() + v.numel(), host.begin() + value_offset_[t]);
  }
  ctx_.synchronize("CudaExecutor::upload (before)");
  values_.upload(host, ctx_.stream());
  batches_tracked_ = state.batches_tracked;
}

void CudaExecutor::download(ModelState<float>& state) {
  THAW_CHECK(state.values.size() == g_.tensors.size(), "model state of ", state.values.size(),
             " tensors for a graph of ", g_.tensors.size());
  ctx_.synchronize("CudaExecutor::download");
  const std::vector<float> host = values_.download(ctx_.stream());
  for (size_t t = 0; t < g_.tensors.size(); ++t) {
    if (value_offset_[t] < 0) continue;
    Tensor<float>& v = state.values[t];
    if (v.shape() != g_.tensors[t].shape) v = Tensor<float>(g_.tensors[t].shape);
    std::copy(host.begin() + value_offset_[t], host.begin() + value_offset_[t] + v.numel(), v.data());
  }
  state.batches_tracked = batches_tracked_;
}

int64_t CudaExecutor::device_bytes() const {
  return static_cast<int64_t>(values_.bytes() + grads_.bytes() + arena_.bytes() + dlogits_.bytes());
}

void CudaExecutor::prepare(int64_t batch) {
  if (mem_ && batch == batch_) return;
  mem_ = std::make_unique<StepMemoryPlan>(g_, plan_, batch);
  batch_ = batch;
  const auto need = static_cast<size_t>(mem_->arena_bytes());
  const auto logits = static_cast<size_t>(batch * g_.num_classes);
  if (arena_.size() < need || dlogits_.size() < logits) {
    // Queued work may still use the old buffers.
    ctx_.synchronize("CudaExecutor: growing the step arena");
    if (arena_.size() < need) {
      arena_ = cuda::DeviceBuffer<unsigned char>();
      arena_ = cuda::DeviceBuffer<unsigned char>(need);
    }
    if (dlogits_.size() < logits) dlogits_ = cuda::DeviceBuffer<float>(logits);
  }
}

template <typename T>
T* CudaExecutor::arena_at(StepBufferKind kind, int node) {
  const int64_t off = mem_->offset(kind, node);
  THAW_CHECK(off >= 0, "no ", step_buffer_kind_name(kind), " buffer planned for node ", g_.nodes[node].name);
  return reinterpret_cast<T*>(arena_.data() + off);
}

float* CudaExecutor::out(int node) {
  // The image is the caller's and only ever read.
  if (node == 0) return const_cast<float*>(input_);
  return arena_at<float>(StepBufferKind::Output, node);
}

float* CudaExecutor::dout(int node) {
  if (node == g_.output_node()) return const_cast<float*>(dlogits_in_);
  return arena_at<float>(StepBufferKind::OutputGrad, node);
}

const float* CudaExecutor::forward(const float* x, int64_t batch, Phase phase, const StepKey& key) {
  if (batch < 1) fail_user("input batch: expected at least 1 image, got ", batch);
  THAW_CHECK(x != nullptr, "CudaExecutor::forward: null input");
  prepare(batch);
  input_ = x;
  loss_ready_ = false;
  forward_train_ = phase == Phase::Train;
  for (size_t i = 1; i < g_.nodes.size(); ++i) {
    const int node = static_cast<int>(i);
    with_node_context(g_.nodes[i], "forward", [&] { forward_node(node, phase, key); });
  }
  return out(g_.output_node());
}

void CudaExecutor::forward_node(int i, Phase phase, const StepKey& key) {
  const Node& n = g_.nodes[i];
  const bool train = phase == Phase::Train && plan_.trainable[i];
  const float* x = out(n.inputs[0]);
  const Shape& in = g_.nodes[n.inputs[0]].out;
  float* y = out(i);
  const int64_t count = batch_ * shape_numel(n.out);
  switch (n.kind) {
    case OpKind::Conv: cuda::conv2d_forward(ctx_, conv_geom(n, in, batch_), x, param(i, 0), y); break;
    case OpKind::BatchNorm: {
      const BnGeom bg = bn_geom(n, batch_);
      if (train && plan_.bn == BnPolicy::Train) {
        cuda::batchnorm_forward_train(ctx_, bg, x, param(i, 0), param(i, 1), param(i, 2), param(i, 3), y,
                                      arena_at<float>(StepBufferKind::BnMean, i),
                                      arena_at<float>(StepBufferKind::BnInvstd, i));
        ++batches_tracked_[n.tensors[4]];
      } else {
        cuda::batchnorm_forward_infer(ctx_, bg, x, param(i, 0), param(i, 1), param(i, 2), param(i, 3), y);
      }
      break;
    }
    case OpKind::Relu: cuda::relu_forward(ctx_, count, x, y); break;
    case OpKind::MaxPool:
      cuda::maxpool_forward(ctx_, pool_geom(n, in, batch_), x, y, arena_at<int32_t>(StepBufferKind::Argmax, i));
      break;
    case OpKind::AvgPool: cuda::avgpool_forward(ctx_, pool_geom(n, in, batch_), x, y); break;
    case OpKind::Concat: {
      std::vector<cuda::ChannelSlice<const float>> parts;
      for (int src : n.inputs) parts.push_back({out(src), g_.nodes[src].out[0]});
      cuda::concat_forward(ctx_, batch_, n.out[1] * n.out[2], parts, y);
      break;
    }
    case OpKind::GlobalAvgPool: cuda::global_avgpool_forward(ctx_, batch_, in[0], in[1] * in[2], x, y); break;
    case OpKind::Dropout: {
      if (!train || n.dropout == 0.0) {
        THAW_CUDA_CHECK(cudaMemcpyAsync(y, x, static_cast<size_t>(count) * sizeof(float), cudaMemcpyDeviceToDevice,
                                        ctx_.stream()));
        break;
      }
      // The same mask as the CPU executor: element e of sample s from (seed, step, offset + s).
      const int64_t per = n.out[0];
      host_mask_.resize(static_cast<size_t>(count));
      for (int64_t s = 0; s < batch_; ++s) {
        const CounterRng rng(key.seed, RngPurpose::Dropout, static_cast<uint32_t>(key.step),
                             static_cast<uint32_t>(key.sample_offset + s));
        for (int64_t e = 0; e < per; ++e) host_mask_[s * per + e] = rng.uniform_double_at(e) >= n.dropout;
      }
      uint8_t* keep = arena_at<uint8_t>(StepBufferKind::DropoutMask, i);
      THAW_CUDA_CHECK(cudaMemcpyAsync(keep, host_mask_.data(), host_mask_.size(), cudaMemcpyHostToDevice, ctx_.stream()));
      // The host mask is rewritten by the next step: the copy must be done before then.
      ctx_.synchronize("dropout mask upload");
      cuda::dropout_forward(ctx_, count, n.dropout, keep, x, y);
      break;
    }
    case OpKind::Linear: {
      const LinearGeom lg{batch_, in[0], n.out[0]};
      cuda::linear_forward(ctx_, lg, x, param(i, 0), param(i, 1), y);
      break;
    }
    case OpKind::Input: fail_internal("input node inside the graph body");
  }
}

double CudaExecutor::loss(const int32_t* labels, double label_smoothing, const float* class_weights) {
  THAW_CHECK(mem_ && input_, "CudaExecutor::loss before any forward");
  const double l = cuda::softmax_cross_entropy(ctx_, batch_, g_.num_classes, out(g_.output_node()), labels,
                                               label_smoothing, class_weights, dlogits_.data());
  loss_ready_ = true;
  return l;
}

std::vector<float> CudaExecutor::logits_to_host() {
  THAW_CHECK(mem_ && input_, "CudaExecutor::logits_to_host before any forward");
  std::vector<float> host(static_cast<size_t>(batch_ * g_.num_classes));
  copy_to_host(ctx_, host.data(), out(g_.output_node()), static_cast<int64_t>(host.size()), "logits download");
  return host;
}

std::vector<float> CudaExecutor::grad_to_host(int tensor) {
  THAW_CHECK(tensor >= 0 && static_cast<size_t>(tensor) < g_.tensors.size() && grad_offset_[tensor] >= 0,
             "no gradient kept for tensor ", tensor);
  std::vector<float> host(static_cast<size_t>(shape_numel(g_.tensors[tensor].shape)));
  copy_to_host(ctx_, host.data(), grads_.data() + grad_offset_[tensor], static_cast<int64_t>(host.size()),
               "gradient download");
  return host;
}

const StepBuffer& CudaExecutor::kept_after_forward(StepBufferKind kind, int node) const {
  THAW_CHECK(mem_ && input_, "CudaExecutor: no forward yet");
  const StepBuffer* b = mem_->find(kind, node);
  THAW_CHECK(b && b->last >= mem_->loss_time(), "the ", step_buffer_kind_name(kind), " of node ",
             g_.nodes[node].name, " is not kept after the forward");
  return *b;
}

std::vector<float> CudaExecutor::output_to_host(int node) {
  const StepBuffer& b = kept_after_forward(StepBufferKind::Output, node);
  std::vector<float> host(static_cast<size_t>(b.bytes) / sizeof(float));
  copy_to_host(ctx_, host.data(), out(node), static_cast<int64_t>(host.size()), "output download");
  return host;
}

std::vector<int32_t> CudaExecutor::argmax_to_host(int node) {
  const StepBuffer& b = kept_after_forward(StepBufferKind::Argmax, node);
  std::vector<int32_t> host(static_cast<size_t>(b.bytes) / sizeof(int32_t));
  THAW_CUDA_CHECK(cudaMemcpyAsync(host.data(), arena_at<int32_t>(StepBufferKind::Argmax, node), b.bytes,
                                  cudaMemcpyDeviceToHost, ctx_.stream()));
  ctx_.synchronize("argmax download");
  return host;
}

void CudaExecutor::backward() {
  THAW_CHECK(loss_ready_, "CudaExecutor::backward() without loss() after the last forward");
  backward(dlogits_.data());
}

void CudaExecutor::backward(const float* dlogits) {
  THAW_CHECK(mem_ && input_, "CudaExecutor::backward before any forward");
  THAW_CHECK(forward_train_, "CudaExecutor::backward after a Phase::Eval forward (nothing was kept)");
  THAW_CHECK(dlogits != nullptr, "CudaExecutor::backward: null dlogits");
  THAW_CUDA_CHECK_CTX(cudaMemsetAsync(grads_.data(), 0, grads_.bytes(), ctx_.stream()), "zeroing the gradients");
  const int last = g_.output_node();
  if (!plan_.trainable[last]) return;
  std::fill(grad_started_.begin(), grad_started_.end(), 0);
  dlogits_in_ = dlogits;
  grad_started_[last] = 1;
  for (int i = last; i > 0; --i) {
    if (!plan_.trainable[i] || !grad_started_[i]) continue;
    with_node_context(g_.nodes[i], "backward", [&] { backward_node(i); });
  }
  dlogits_in_ = nullptr;
}

float* CudaExecutor::grad_target(int node, int which, cuda::OutputMode* mode) {
  const int src = g_.nodes[node].inputs[which];
  // No input-gradient into the frozen boundary or the image.
  if (!plan_.trainable[src]) return nullptr;
  float* d = dout(src);
  if (grad_started_[src]) {
    if (mode) *mode = cuda::OutputMode::accumulate;
    return d;
  }
  grad_started_[src] = 1;
  if (mode) {
    *mode = cuda::OutputMode::overwrite;
  } else {
    const int64_t count = batch_ * shape_numel(g_.nodes[src].out);
    THAW_CUDA_CHECK(cudaMemsetAsync(d, 0, static_cast<size_t>(count) * sizeof(float), ctx_.stream()));
  }
  return d;
}

void CudaExecutor::backward_node(int i) {
  const Node& n = g_.nodes[i];
  const float* dy = dout(i);
  const Shape& in = g_.nodes[n.inputs[0]].out;
  const int64_t count = batch_ * shape_numel(n.out);
  switch (n.kind) {
    case OpKind::Conv: {
      const ConvGeom cg = conv_geom(n, in, batch_);
      // The weight is read by this node only, and the gradients were zeroed: write it.
      cuda::conv2d_backward_weight(ctx_, cg, out(n.inputs[0]), dy, grad(i, 0), cuda::OutputMode::overwrite);
      cuda::OutputMode mode{};
      if (float* dx = grad_target(i, 0, &mode)) cuda::conv2d_backward_data(ctx_, cg, dy, param(i, 0), dx, mode);
      break;
    }
    case OpKind::BatchNorm: {
      const BnGeom bg = bn_geom(n, batch_);
      float* dx = grad_target(i, 0, nullptr);
      const float* x = out(n.inputs[0]);
      if (plan_.bn == BnPolicy::Train) {
        cuda::batchnorm_backward_train(ctx_, bg, x, dy, param(i, 0), arena_at<float>(StepBufferKind::BnMean, i),
                                       arena_at<float>(StepBufferKind::BnInvstd, i), dx, grad(i, 0), grad(i, 1));
      } else {
        cuda::batchnorm_backward_infer(ctx_, bg, x, dy, param(i, 0), param(i, 2), param(i, 3), dx, grad(i, 0),
                                       grad(i, 1));
      }
      break;
    }
    case OpKind::Relu:
      if (float* dx = grad_target(i, 0, nullptr)) cuda::relu_backward(ctx_, count, out(i), dy, dx);
      break;
    case OpKind::MaxPool:
      if (float* dx = grad_target(i, 0, nullptr)) {
        cuda::maxpool_backward(ctx_, pool_geom(n, in, batch_), dy, arena_at<int32_t>(StepBufferKind::Argmax, i), dx);
      }
      break;
    case OpKind::AvgPool:
      if (float* dx = grad_target(i, 0, nullptr)) cuda::avgpool_backward(ctx_, pool_geom(n, in, batch_), dy, dx);
      break;
    case OpKind::Concat: {
      std::vector<cuda::ChannelSlice<float>> parts;
      for (size_t k = 0; k < n.inputs.size(); ++k) {
        parts.push_back({grad_target(i, static_cast<int>(k), nullptr), g_.nodes[n.inputs[k]].out[0]});
      }
      cuda::concat_backward(ctx_, batch_, n.out[1] * n.out[2], dy, parts);
      break;
    }
    case OpKind::GlobalAvgPool:
      if (float* dx = grad_target(i, 0, nullptr)) cuda::global_avgpool_backward(ctx_, batch_, in[0], in[1] * in[2], dy, dx);
      break;
    case OpKind::Dropout: {
      if (n.dropout > 0.0) {
        if (float* dx = grad_target(i, 0, nullptr)) {
          cuda::dropout_backward(ctx_, count, n.dropout, arena_at<uint8_t>(StepBufferKind::DropoutMask, i), dy, dx);
        }
        break;
      }
      cuda::OutputMode mode{};
      if (float* dx = grad_target(i, 0, &mode)) {
        if (mode == cuda::OutputMode::overwrite) {
          THAW_CUDA_CHECK(cudaMemcpyAsync(dx, dy, static_cast<size_t>(count) * sizeof(float),
                                          cudaMemcpyDeviceToDevice, ctx_.stream()));
        } else {
          cuda::accumulate(ctx_, count, dy, dx);
        }
      }
      break;
    }
    case OpKind::Linear: {
      const LinearGeom lg{batch_, in[0], n.out[0]};
      const float* x = out(n.inputs[0]);
      cuda::linear_backward(ctx_, lg, x, param(i, 0), dy, nullptr, grad(i, 0), grad(i, 1), cuda::OutputMode::overwrite);
      cuda::OutputMode mode{};
      if (float* dx = grad_target(i, 0, &mode)) {
        cuda::linear_backward(ctx_, lg, x, param(i, 0), dy, dx, nullptr, nullptr, mode);
      }
      break;
    }
    case OpKind::Input: break;
  }
}

}  // namespace thaw

#endif  // THAW_HAVE_CUDA
