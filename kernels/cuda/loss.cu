#include "kernels/cuda/loss.h"

#include "core/error.h"
#include "kernels/cuda/block_reduce.cuh"
#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/launch.h"

namespace thaw::cuda {

namespace {

// Order does not matter for a maximum, but the tree is fixed anyway.
__device__ float block_max(float partial, float* shared) {
  const int t = threadIdx.x;
  shared[t] = partial;
  __syncthreads();
  for (int s = kReduceThreads / 2; s > 0; s /= 2) {
    if (t < s) shared[t] = fmaxf(shared[t], shared[t + s]);
    __syncthreads();
  }
  const float m = shared[0];
  __syncthreads();
  return m;
}

// log-sum-exp of row z (length k), in double, the same value on every thread of the block.
__device__ double row_lse(const float* z, int64_t k, float* fshared, double* dshared) {
  float m = -INFINITY;
  for (int64_t c = threadIdx.x; c < k; c += kReduceThreads) m = fmaxf(m, z[c]);
  m = block_max(m, fshared);
  double s = 0.0;
  for (int64_t c = threadIdx.x; c < k; c += kReduceThreads) s += exp(static_cast<double>(z[c]) - m);
  s = block_sum(s, dshared);
  return static_cast<double>(m) + log(s);
}

struct RowStats {
  double* lse;    // [n]
  double* loss;   // [n] l_i
  double* wy;     // [n] w[y_i]
  double* total;  // [2] sum l_i, sum w[y_i]
  int* bad_row;   // smallest row with a label outside [0, k), or a large value
};

__global__ void __launch_bounds__(kReduceThreads)
    ce_rows_kernel(int64_t k, const float* logits, const int32_t* labels, double smoothing, const float* weights,
                   RowStats st) {
  __shared__ float fshared[kReduceThreads];
  __shared__ double dshared[kReduceThreads];
  const int64_t row = blockIdx.x;
  const float* z = logits + row * k;
  const double lse = row_lse(z, k, fshared, dshared);
  // sum_c w[c] * -log p[c] = sum_c w[c] * (lse - z[c]).
  double s = 0.0;
  for (int64_t c = threadIdx.x; c < k; c += kReduceThreads) {
    const double w = weights ? static_cast<double>(weights[c]) : 1.0;
    s += w * (lse - static_cast<double>(z[c]));
  }
  s = block_sum(s, dshared);
  if (threadIdx.x == 0) {
    const int32_t y = labels[row];
    st.lse[row] = lse;
    if (y < 0 || y >= k) {
      atomicMin(st.bad_row, static_cast<int>(row));  // an integer minimum: the same answer in any order
      st.loss[row] = 0.0;
      st.wy[row] = 0.0;
      return;
    }
    const double wy = weights ? static_cast<double>(weights[y]) : 1.0;
    st.loss[row] = (1.0 - smoothing) * wy * (lse - static_cast<double>(z[y])) + smoothing / k * s;
    st.wy[row] = wy;
  }
}

__global__ void __launch_bounds__(kReduceThreads) ce_total_kernel(int64_t n, RowStats st) {
  __shared__ double dshared[kReduceThreads];
  double l = 0.0, w = 0.0;
  for (int64_t i = threadIdx.x; i < n; i += kReduceThreads) {
    l += st.loss[i];
    w += st.wy[i];
  }
  l = block_sum(l, dshared);
  w = block_sum(w, dshared);
  if (threadIdx.x == 0) {
    st.total[0] = l;
    st.total[1] = w;
  }
}

// d loss / d z_c = ((1-e) w_y (p_c - [c = y]) + (e/K) (S_w p_c - w_c)) / sum_i w[y_i]; S_w is
// *weight_sum with class weights, else k.
__global__ void ce_grad_kernel(int64_t n, int64_t k, const float* logits, const int32_t* labels, double smoothing,
                               const float* weights, const double* weight_sum_dev, RowStats st, float* dlogits) {
  const double weight_sum = weights ? *weight_sum_dev : static_cast<double>(k);
  const int64_t total = n * k;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < total; i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t row = i / k, c = i % k;
    const double p = exp(static_cast<double>(logits[i]) - st.lse[row]);
    const double wc = weights ? static_cast<double>(weights[c]) : 1.0;
    const double hit = labels[row] == c ? 1.0 : 0.0;
    const double g = (1.0 - smoothing) * st.wy[row] * (p - hit) + smoothing / k * (weight_sum * p - wc);
    dlogits[i] = static_cast<float>(g / st.total[1]);
  }
}

// The mean loss where the caller reads it, and the smallest bad row where the caller checks it.
__global__ void ce_finish_kernel(RowStats st, double* loss_out, int* bad_row_out) {
  *loss_out = st.total[0] / st.total[1];
  atomicMin(bad_row_out, *st.bad_row);
}

__global__ void __launch_bounds__(kReduceThreads) weight_sum_kernel(int64_t k, const float* weights, double* out) {
  __shared__ double dshared[kReduceThreads];
  double s = 0.0;
  for (int64_t c = threadIdx.x; c < k; c += kReduceThreads) s += static_cast<double>(weights[c]);
  s = block_sum(s, dshared);
  if (threadIdx.x == 0) *out = s;
}

__global__ void __launch_bounds__(kReduceThreads) softmax_kernel(int64_t k, const float* logits, float* probs) {
  __shared__ float fshared[kReduceThreads];
  __shared__ double dshared[kReduceThreads];
  const float* z = logits + blockIdx.x * k;
  const double lse = row_lse(z, k, fshared, dshared);
  for (int64_t c = threadIdx.x; c < k; c += kReduceThreads) {
    probs[blockIdx.x * k + c] = static_cast<float>(exp(static_cast<double>(z[c]) - lse));
  }
}

size_t align_up(size_t v) { return (v + 255) & ~size_t{255}; }

// The row statistics' bytes in the Context's scratch area for n rows.
size_t stats_bytes(int64_t n) { return 3 * align_up(static_cast<size_t>(n) * sizeof(double)) + 3 * 256; }

}  // namespace

void softmax_cross_entropy_async(Context& ctx, int64_t n, int64_t k, const float* logits, const int32_t* labels,
                                 double label_smoothing, const float* class_weights, float* dlogits, double* loss_out,
                                 int* bad_row_out) {
  THAW_CHECK(n >= 1 && k >= 1 && n <= 0x7fffffff, "cross-entropy over n=", n, " rows of k=", k, " classes");
  THAW_CHECK(label_smoothing >= 0.0 && label_smoothing <= 1.0, "label smoothing must lie in [0, 1], got ",
             label_smoothing);
  const size_t row_bytes = align_up(static_cast<size_t>(n) * sizeof(double));
  const size_t total_at = 3 * row_bytes, bad_at = total_at + 256, wsum_at = bad_at + 256;
  char* base = static_cast<char*>(ctx.scratch(stats_bytes(n)));
  RowStats st{reinterpret_cast<double*>(base), reinterpret_cast<double*>(base + row_bytes),
              reinterpret_cast<double*>(base + 2 * row_bytes), reinterpret_cast<double*>(base + total_at),
              reinterpret_cast<int*>(base + bad_at)};
  double* wsum = reinterpret_cast<double*>(base + wsum_at);
  THAW_CUDA_CHECK(cudaMemsetAsync(st.bad_row, 0x7f, sizeof(int), ctx.stream()));

  ce_rows_kernel<<<static_cast<unsigned>(n), kReduceThreads, 0, ctx.stream()>>>(k, logits, labels, label_smoothing,
                                                                                 class_weights, st);
  THAW_CUDA_LAUNCH_CHECK("softmax_cross_entropy rows");
  ce_total_kernel<<<1, kReduceThreads, 0, ctx.stream()>>>(n, st);
  THAW_CUDA_LAUNCH_CHECK("softmax_cross_entropy total");
  if (class_weights) {
    weight_sum_kernel<<<1, kReduceThreads, 0, ctx.stream()>>>(k, class_weights, wsum);
    THAW_CUDA_LAUNCH_CHECK("softmax_cross_entropy weight sum");
  }
  ce_finish_kernel<<<1, 1, 0, ctx.stream()>>>(st, loss_out, bad_row_out);
  THAW_CUDA_LAUNCH_CHECK("softmax_cross_entropy finish");
  // A bad label or a zero weight sum makes the gradient meaningless, never out of bounds: the
  // caller's check of bad_row_out and the loss decides.
  if (dlogits) {
    ce_grad_kernel<<<elementwise_blocks(n * k), kElementwiseThreads, 0, ctx.stream()>>>(
        n, k, logits, labels, label_smoothing, class_weights, wsum, st, dlogits);
    THAW_CUDA_LAUNCH_CHECK("softmax_cross_entropy gradient");
  }
}

namespace {

__global__ void skip_flag_kernel(const double* loss, const int* bad_row, int64_t rows, int32_t* flag) {
  *flag = (!isfinite(*loss) || *bad_row < rows) ? 1 : 0;
}

}  // namespace

void step_skip_flag(Context& ctx, const double* loss, const int* bad_row, int64_t rows, int32_t* flag) {
  THAW_CHECK(loss && bad_row && flag, "step_skip_flag: null pointer");
  skip_flag_kernel<<<1, 1, 0, ctx.stream()>>>(loss, bad_row, rows, flag);
  THAW_CUDA_LAUNCH_CHECK("step_skip_flag");
}

void check_cross_entropy(const int32_t* labels, int64_t n, int64_t k, int bad_row) {
  if (bad_row >= n) return;
  int32_t label = 0;
  THAW_CUDA_CHECK(cudaMemcpy(&label, labels + bad_row, sizeof(label), cudaMemcpyDeviceToHost));
  fail_internal("softmax_cross_entropy: label ", label, " of row ", bad_row, " is outside [0, ", k, ")");
}

double softmax_cross_entropy(Context& ctx, int64_t n, int64_t k, const float* logits, const int32_t* labels,
                             double label_smoothing, const float* class_weights, float* dlogits) {
  struct Out {
    double loss;
    int bad_row;
  };
  Out out{0.0, 0x7fffffff};
  // Behind the row statistics in the scratch area (the async call asks for no more than they take).
  THAW_CHECK(n >= 1, "cross-entropy over n=", n, " rows");
  char* tail = static_cast<char*>(ctx.scratch(stats_bytes(n) + 256)) + stats_bytes(n);
  auto* loss_dev = reinterpret_cast<double*>(tail);
  auto* bad_dev = reinterpret_cast<int*>(tail + 64);
  THAW_CUDA_CHECK(cudaMemsetAsync(bad_dev, 0x7f, sizeof(int), ctx.stream()));
  softmax_cross_entropy_async(ctx, n, k, logits, labels, label_smoothing, class_weights, dlogits, loss_dev, bad_dev);
  THAW_CUDA_CHECK(cudaMemcpyAsync(&out.loss, loss_dev, sizeof(double), cudaMemcpyDeviceToHost, ctx.stream()));
  THAW_CUDA_CHECK(cudaMemcpyAsync(&out.bad_row, bad_dev, sizeof(int), cudaMemcpyDeviceToHost, ctx.stream()));
  ctx.synchronize("softmax_cross_entropy");
  check_cross_entropy(labels, n, k, out.bad_row);
  return out.loss;
}

void softmax(Context& ctx, int64_t n, int64_t k, const float* logits, float* probs) {
  THAW_CHECK(n >= 1 && k >= 1 && n <= 0x7fffffff, "softmax over n=", n, " rows of k=", k, " classes");
  softmax_kernel<<<static_cast<unsigned>(n), kReduceThreads, 0, ctx.stream()>>>(k, logits, probs);
  THAW_CUDA_LAUNCH_CHECK("softmax");
}

}  // namespace thaw::cuda
