#include "engine/gpu/cuda_executor.h"

#if THAW_HAVE_CUDA

#include <algorithm>
#include <cstring>
#include <utility>

#include "core/bf16.h"
#include "engine/gpu/op_fusions.h"
#include "engine/gpu/tensor_align.h"
#include "core/error.h"
#include "graph/node_geometry.h"
#include "kernels/cuda/bn_running.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/channels_last.h"
#include "kernels/cuda/convert.h"
#include "kernels/cuda/fold_bn.h"
#include "kernels/cuda/loss.h"

namespace thaw {

namespace {

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

CudaExecutor::CudaExecutor(cuda::Context& ctx, const Graph& g, const Plan& plan, const ModelState<float>& state,
                           bool bf16)
    : ctx_(ctx), g_(g), plan_(plan), bf16_(bf16) {
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
  set_fold_frozen(true);
  if (bf16_) {
    working_ = cuda::DeviceBuffer<cuda::bf16>(values_.size());
    int64_t largest_conv = 1;
    for (const Node& n : g.nodes) {
      if (n.kind == OpKind::Conv) largest_conv = std::max(largest_conv, shape_numel(g.tensors[n.tensors[0]].shape));
    }
    wgrad16_ = cuda::DeviceBuffer<cuda::bf16>(static_cast<size_t>(largest_conv));
  }
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
  frozen_copies_ready_ = false;
  krsc_frozen_ready_ = false;
  folds_ready_ = false;
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
  return static_cast<int64_t>(values_.bytes() + grads_.bytes() + arena_.bytes() + dlogits_.bytes() +
                              working_.bytes() + input16_.bytes() + input_cl_.bytes() + dlogits16_.bytes() +
                              wgrad16_.bytes() + krsc_.bytes() + wgrad32_.bytes() +
                              linear16_.bytes() + logits32_.bytes() + linear32_.bytes());
}

void CudaExecutor::prepare(int64_t batch) {
  if (mem_ && batch == batch_) return;
  forward_ran_ = false;  // a new arena holds no forward's results
  mem_ = std::make_unique<StepMemoryPlan>(g_, plan_, batch, bf16_ ? 2 : 4, &folded_, &bn_relu_, &slots_, cl_end_);
  const Shape& image = g_.nodes[0].out;
  const auto image_bytes = static_cast<size_t>(batch * image_channels_stored() * image[1] * image[2] * (bf16_ ? 2 : 4));
  if (image_channels_last() && input_cl_.size() < image_bytes) {
    ctx_.synchronize("CudaExecutor: growing the channels-last image");
    input_cl_ = cuda::DeviceBuffer<unsigned char>(image_bytes);
  }
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
  if (bf16_) prepare_bf16(batch);
}

void CudaExecutor::prepare_bf16(int64_t batch) {
  ctx_.synchronize("CudaExecutor: the bf16 buffers");
  const auto logits = static_cast<size_t>(batch * g_.num_classes);
  const int lin = g_.output_node();
  THAW_CHECK(g_.nodes[lin].kind == OpKind::Linear, "the last node is not the classifier");
  const auto features = static_cast<size_t>(shape_numel(g_.nodes[g_.nodes[lin].inputs[0]].out));
  const auto n = static_cast<size_t>(batch);
  // A channels-last front reads its own copy of the image (input_cl_), never this one.
  const size_t image = image_channels_last() ? 0 : n * static_cast<size_t>(shape_numel(g_.nodes[0].out));
  input16_ = cuda::DeviceBuffer<cuda::bf16>(image);
  dlogits16_ = cuda::DeviceBuffer<cuda::bf16>(logits);
  logits32_ = cuda::DeviceBuffer<float>(logits);
  linear16_ = cuda::DeviceBuffer<cuda::bf16>(n * features);
  const LinearGeom lg{batch, static_cast<int64_t>(features), g_.num_classes};
  linear32_ = cuda::DeviceBuffer<float>(static_cast<size_t>(linear_scratch_floats(lg)));
}

void CudaExecutor::refresh_working_copies() {
  // Trainable masters change at every step; the frozen ones only on upload.
  if (!frozen_copies_ready_) {
    cuda::to_bf16(ctx_, static_cast<int64_t>(values_.size()), values_.data(), working_.data());
    frozen_copies_ready_ = true;
    return;
  }
  cuda::to_bf16(ctx_, trainable_span_, values_.data(), working_.data());
}

const float* CudaExecutor::forward(const float* x, int64_t batch, Phase phase, const StepKey& key) {
  if (batch < 1) fail_user("input batch: expected at least 1 image, got ", batch);
  THAW_CHECK(x != nullptr, "CudaExecutor::forward: null input");
  prepare(batch);
  input_ = x;
  forward_ran_ = true;
  loss_ready_ = false;
  forward_train_ = phase == Phase::Train;
  if (bf16_) timed_other("bf16 working copies", [&] { refresh_working_copies(); });
  const Shape& image = g_.nodes[0].out;
  if (image_channels_last()) {  // out_as(0) is the channels-last image then
    timed_other("the image into channels-last", [&] {
      const int64_t cs = image_channels_stored();
      if (bf16_) {
        cuda::nchw_to_nhwc(ctx_, batch, image[0], image[1] * image[2], x, out_as<cuda::bf16>(0), cs);
      } else {
        cuda::nchw_to_nhwc(ctx_, batch, image[0], image[1] * image[2], x, out_as<float>(0), cs);
      }
    });
  } else if (bf16_) {
    timed_other("the image into bf16", [&] { cuda::to_bf16(ctx_, batch * shape_numel(image), x, input16_.data()); });
  }
  return forward_nodes(1, phase, key);
}

void* CudaExecutor::boundary_rows(int node, int64_t batch) {
  THAW_CHECK(node > 0 && node < g_.output_node(), "boundary_rows: node ", node, " out of range");
  prepare(batch);
  return arena_at<unsigned char>(StepBufferKind::Output, node);
}

int64_t CudaExecutor::activation_row_bytes(int node) const {
  return shape_numel(g_.nodes[node].out) * (bf16_ ? 2 : 4);
}

const float* CudaExecutor::forward_from(int node, int64_t batch, Phase phase, const StepKey& key) {
  if (batch < 1) fail_user("input batch: expected at least 1 image, got ", batch);
  for (size_t i = static_cast<size_t>(node) + 1; i < g_.nodes.size(); ++i) {
    for (int in : g_.nodes[i].inputs) {
      THAW_CHECK(in >= node, "forward_from: ", g_.nodes[i].name, " reads ", g_.nodes[in].name, " before ",
                 g_.nodes[node].name);
    }
  }
  THAW_CHECK(batch == batch_ && mem_, "forward_from: boundary_rows was not filled for a batch of ", batch);
  THAW_CHECK(node >= cl_end_, "forward_from: ", g_.nodes[node].name, " is inside the channels-last front");
  input_ = nullptr;  // nothing after the boundary reads the image
  forward_ran_ = true;
  loss_ready_ = false;
  forward_train_ = phase == Phase::Train;
  if (bf16_) timed_other("bf16 working copies", [&] { refresh_working_copies(); });
  return forward_nodes(node + 1, phase, key);
}

const float* CudaExecutor::forward_nodes(int first, Phase phase, const StepKey& key) {
  const int64_t batch = batch_;
  if (!folds_ready_) prepare_folds();
  if (nhwc_all_) timed_other("channels-last filter copies", [&] { refresh_krsc_weights(); });
  fused_groups_ = 0;
  for (auto i = static_cast<size_t>(first); i < g_.nodes.size(); ++i) {
    const int node = static_cast<int>(i);
    // Done by its group's convolution, or by its batch norm (queued already).
    if (folded_away(folded_, node) || bn_relu_[i - 1]) {
      if (node == capture_at_ && capture_) capture_(arena_at<unsigned char>(StepBufferKind::Output, node));
      continue;
    }
    with_node_context(g_.nodes[i], "forward", [&] {
      timed(node, ProfilePart::Forward, [&] {
        if (node <= cl_end_) {
          if (bf16_) {
            forward_front<cuda::bf16>(node);
          } else {
            forward_front<float>(node);
          }
        } else if (folded_[i]) {
          if (bf16_) {
            forward_folded<cuda::bf16>(node);
          } else {
            forward_folded<float>(node);
          }
        } else if (bf16_) {
          forward_node<cuda::bf16>(node, phase, key);
        } else {
          forward_node<float>(node, phase, key);
        }
      });
    });
    if (node == capture_at_ && capture_) capture_(arena_at<unsigned char>(StepBufferKind::Output, node));
  }
  if (!bf16_) return out(g_.output_node());
  // The bf16 logits' values in fp32, for the loss and the callers.
  cuda::to_float(ctx_, batch * g_.num_classes, out_as<cuda::bf16>(g_.output_node()), logits32_.data());
  return logits32_.data();
}

void CudaExecutor::apply_bn_statistics(int node, const float* stats) {
  const Node& n = g_.nodes[node];
  THAW_CHECK(n.kind == OpKind::BatchNorm, n.name, " is not a batch norm");
  const int64_t c = n.out[0];
  cuda::bn_running_update(ctx_, c, bn_geom(n, 1).momentum, stats, stats + c, param(node, 2), param(node, 3));
  ++batches_tracked_[n.tensors[4]];
}

void CudaExecutor::set_profile(StepProfile* profile) {
  profile_ = profile;
  if (profile_ && !timeline_) timeline_ = std::make_unique<cuda::EventTimeline>(ctx_.stream());
}

int CudaExecutor::profile_mark() {
  THAW_CHECK(profile_ && timeline_, "profile_mark without a profile");
  return timeline_->mark();
}

void CudaExecutor::profile_other(const std::string& what, int from_mark, int to_mark) {
  THAW_CHECK(profile_, "profile_other without a profile");
  pending_.push_back({-1, ProfilePart::Forward, what, from_mark, to_mark});
}

void CudaExecutor::flush_profile() {
  if (!profile_ || !timeline_) return;
  for (const PendingTime& p : pending_) {
    const double ms = timeline_->elapsed_ms(p.from, p.to);
    if (p.node < 0) {
      profile_->add_other(p.what, ms);
    } else {
      profile_->add(p.node, p.part, ms);
    }
  }
  pending_.clear();
  timeline_->reset();
}

const float* CudaExecutor::logits() { return bf16_ ? logits32_.data() : out(g_.output_node()); }

double CudaExecutor::loss(const int32_t* labels, double label_smoothing, const float* class_weights) {
  THAW_CHECK(mem_ && forward_ran_, "CudaExecutor::loss before any forward");
  const double l = cuda::softmax_cross_entropy(ctx_, batch_, g_.num_classes, logits(), labels, label_smoothing,
                                               class_weights, dlogits_.data());
  loss_ready_ = true;
  return l;
}

void CudaExecutor::loss_async(const int32_t* labels, double label_smoothing, const float* class_weights,
                              double* loss_out, int* bad_row_out) {
  THAW_CHECK(mem_ && forward_ran_, "CudaExecutor::loss_async before any forward");
  cuda::softmax_cross_entropy_async(ctx_, batch_, g_.num_classes, logits(), labels, label_smoothing, class_weights,
                                    dlogits_.data(), loss_out, bad_row_out);
  loss_ready_ = true;
}

std::vector<float> CudaExecutor::logits_to_host() {
  THAW_CHECK(mem_ && forward_ran_, "CudaExecutor::logits_to_host before any forward");
  std::vector<float> host(static_cast<size_t>(batch_ * g_.num_classes));
  copy_to_host(ctx_, host.data(), logits(), static_cast<int64_t>(host.size()), "logits download");
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
  THAW_CHECK(mem_ && forward_ran_, "CudaExecutor: no forward yet");
  const StepBuffer* b = mem_->find(kind, node);
  THAW_CHECK(b && b->last >= mem_->loss_time(), "the ", step_buffer_kind_name(kind), " of node ",
             g_.nodes[node].name, " is not kept after the forward");
  return *b;
}

std::vector<float> CudaExecutor::output_to_host(int node) {
  const StepBuffer& b = kept_after_forward(StepBufferKind::Output, node);
  if (!bf16_) {
    std::vector<float> host(static_cast<size_t>(b.bytes) / sizeof(float));
    copy_to_host(ctx_, host.data(), out(node), static_cast<int64_t>(host.size()), "output download");
    return to_nchw_order(node, std::move(host));
  }
  std::vector<uint16_t> bits(static_cast<size_t>(b.bytes) / sizeof(uint16_t));
  THAW_CUDA_CHECK(cudaMemcpyAsync(bits.data(), out_as<cuda::bf16>(node), bits.size() * sizeof(uint16_t),
                                  cudaMemcpyDeviceToHost, ctx_.stream()));
  ctx_.synchronize("output download");
  std::vector<float> host(bits.size());
  for (size_t e = 0; e < bits.size(); ++e) host[e] = bf16_value(bits[e]);
  return to_nchw_order(node, std::move(host));
}

std::vector<int32_t> CudaExecutor::argmax_to_host(int node) {
  const StepBuffer& b = kept_after_forward(StepBufferKind::Argmax, node);
  std::vector<int32_t> host(static_cast<size_t>(b.bytes) / sizeof(int32_t));
  THAW_CUDA_CHECK(cudaMemcpyAsync(host.data(), arena_at<int32_t>(StepBufferKind::Argmax, node), b.bytes,
                                  cudaMemcpyDeviceToHost, ctx_.stream()));
  ctx_.synchronize("argmax download");
  return to_nchw_order(node, std::move(host));
}

void CudaExecutor::backward() {
  THAW_CHECK(loss_ready_, "CudaExecutor::backward() without loss() after the last forward");
  backward(dlogits_.data());
}

void CudaExecutor::backward(const float* dlogits) {
  THAW_CHECK(mem_ && forward_ran_, "CudaExecutor::backward before any forward");
  THAW_CHECK(forward_train_, "CudaExecutor::backward after a Phase::Eval forward (nothing was kept)");
  THAW_CHECK(dlogits != nullptr, "CudaExecutor::backward: null dlogits");
  if (bf16_) {
    // The rule's one rounding of the logits' gradient.
    cuda::to_bf16(ctx_, batch_ * g_.num_classes, dlogits, dlogits16_.data());
    backward_from(dlogits16_.data());
  } else {
    backward_from(dlogits);
  }
}

void CudaExecutor::backward_from(const void* dlogits) {
  THAW_CUDA_CHECK_CTX(cudaMemsetAsync(grads_.data(), 0, grads_.bytes(), ctx_.stream()), "zeroing the gradients");
  const int last = g_.output_node();
  if (!plan_.trainable[last]) return;
  std::fill(grad_started_.begin(), grad_started_.end(), 0);
  dlogits_in_ = dlogits;
  grad_started_[last] = 1;
  for (int i = last; i > 0; --i) {
    if (!plan_.trainable[i]) continue;
    if (grad_started_[i] && bn_relu_[static_cast<size_t>(i - 1)]) {
      grad_started_[i - 1] = 1;  // the fused batch norm's backward reads this ReLU's gradient
    } else if (grad_started_[i]) {
      with_node_context(g_.nodes[i], "backward", [&] {
        auto run = [&] {
          if (bf16_) {
            backward_node<cuda::bf16>(i);
          } else {
            backward_node<float>(i);
          }
        };
        // A convolution times its two gradients apart (conv_backward).
        if (g_.nodes[i].kind == OpKind::Conv) {
          run();
        } else {
          timed(i, ProfilePart::Backward, run);
        }
      });
    }
    // Node i is the only writer of its tensors' gradients (zeros where none flowed): all queued.
    if (grad_ready_) {
      for (int t : g_.nodes[i].tensors) {
        if (grad_offset_[t] >= 0) grad_ready_(t);
      }
    }
  }
  dlogits_in_ = nullptr;
}

}  // namespace thaw

#endif  // THAW_HAVE_CUDA
