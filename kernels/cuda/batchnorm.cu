#include "kernels/cuda/batchnorm.h"

#include <algorithm>

#include "core/error.h"
#include "kernels/cuda/block_reduce.cuh"
#include "kernels/cuda/channel_chunks.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/launch.h"

namespace thaw::cuda {

namespace {

// Work split (kernels/cuda/channel_chunks.h): a channel's n * hw values in runs whose number is
// fixed by the shape alone, so that even a stem batch norm of 32 channels over 128 x 147 x 147
// values fills the GPU. Each block sums one run in double
// (thread t takes elements t, t + T, ... of the run; then the fixed tree of block_reduce.cuh), and
// one thread per channel adds the chunks' partials in chunk order: the same order on every run.
// The elementwise passes then read per-channel float coefficients, as the CPU twin's formulas.
using ChannelView = ChannelChunks;

ChannelView view_of(const BnGeom& g, Layout layout) {
  THAW_CHECK(g.n >= 1 && g.c >= 1 && g.hw >= 1, "batch norm geometry n=", g.n, " c=", g.c, " hw=", g.hw);
  THAW_CHECK(g.c <= 65535, "batch norm: ", g.c, " channels exceed a grid's y dimension");
  return ChannelChunks::of(g.n, g.c, g.hw, layout == Layout::nhwc);
}

// Per-channel working values in the Context's scratch area, laid out once per call.
struct Scratch {
  double* part_a;  // [c][chunks]
  double* part_b;  // [c][chunks]
  // Channels-last only: each run's kReduceThreads per-thread partials before their tree,
  // [c][chunks][kReduceThreads] (see bn_thread_sums_nhwc_kernel); null for NCHW.
  double* thread_a;
  double* thread_b;
  double* mean;    // [c]
  float* center;   // [c]: the value subtracted before scaling (float, as the CPU twin)
  float* scale;    // [c]
  float* shift;    // [c]
  float* slope;    // [c]: backward's coefficient of (x - center)
};

Scratch scratch_of(Context& ctx, const ChannelView& v) {
  const auto parts = static_cast<size_t>(v.c * v.chunks), c = static_cast<size_t>(v.c);
  const size_t threads = v.nhwc ? parts * kReduceThreads : 0;
  auto up = [](size_t b) { return (b + 255) & ~size_t{255}; };
  const size_t a_at = 0, b_at = up(parts * 8), mean_at = b_at + up(parts * 8), center_at = mean_at + up(c * 8);
  const size_t scale_at = center_at + up(c * 4), shift_at = scale_at + up(c * 4), slope_at = shift_at + up(c * 4);
  const size_t ta_at = slope_at + up(c * 4), tb_at = ta_at + up(threads * 8);
  char* base = static_cast<char*>(ctx.scratch(tb_at + up(threads * 8)));
  return {reinterpret_cast<double*>(base + a_at),
          reinterpret_cast<double*>(base + b_at),
          v.nhwc ? reinterpret_cast<double*>(base + ta_at) : nullptr,
          v.nhwc ? reinterpret_cast<double*>(base + tb_at) : nullptr,
          reinterpret_cast<double*>(base + mean_at),
          reinterpret_cast<float*>(base + center_at),
          reinterpret_cast<float*>(base + scale_at),
          reinterpret_cast<float*>(base + shift_at),
          reinterpret_cast<float*>(base + slope_at)};
}

dim3 chunk_grid(const ChannelView& v) { return dim3(static_cast<unsigned>(v.chunks), static_cast<unsigned>(v.c)); }

// Thread t's share of run k of channel ch: values lo + t, lo + t + kReduceThreads, ... in order, of
// x (center null) or of (x - center[ch])^2. The run's sum is then the fixed tree of block_sum over
// t: in NCHW thread t of one block, in channels-last thread t of bn_thread_sums_nhwc_kernel and the
// tree in bn_tree_kernel; the same additions either way.
template <typename S>
__device__ double thread_sum(const ChannelView& v, const S* x, const double* center, int64_t ch, int64_t k,
                             int64_t t) {
  const double mu = center ? center[ch] : 0.0;
  double s = 0.0;
  for (int64_t m = v.begin(k) + t; m < v.end(k); m += kReduceThreads) {
    const double d = static_cast<double>(ld(x[v.at(ch, m)])) - mu;
    // Rounded as written (one fused multiply-add, or one add), whatever the compiler would contract:
    // both layouts' kernels must make the same additions.
    s = center ? __fma_rn(d, d, s) : __dadd_rn(s, d);
  }
  return s;
}

// part[ch][k] = sum over chunk k of x (center null) or of (x - center[ch])^2; NCHW.
template <typename S>
__global__ void __launch_bounds__(kReduceThreads)
    bn_sum_kernel(ChannelView v, const S* x, const double* center, double* part) {
  __shared__ double shared[kReduceThreads];
  const int64_t ch = blockIdx.y, k = blockIdx.x;
  const double s = block_sum(thread_sum(v, x, center, ch, k, threadIdx.x), shared);
  if (threadIdx.x == 0) part[ch * v.chunks + k] = s;
}

// Channels-last: a block takes kNhwcChannels neighbouring channels times kNhwcShares of the
// kReduceThreads shares of one run, so that neighbouring threads read neighbouring channels of a
// pixel (coalesced), and writes each share's partial for bn_tree_kernel.
constexpr int kNhwcChannels = 16, kNhwcShares = kReduceThreads / kNhwcChannels;

dim3 nhwc_grid(const ChannelView& v) {
  return dim3(static_cast<unsigned>(v.chunks), static_cast<unsigned>((v.c + kNhwcChannels - 1) / kNhwcChannels),
              static_cast<unsigned>(kReduceThreads / kNhwcShares));
}

struct NhwcThread {
  int64_t ch, k, t;
  __device__ NhwcThread()
      : ch(int64_t{blockIdx.y} * kNhwcChannels + threadIdx.x % kNhwcChannels),
        k(blockIdx.x),
        t(int64_t{blockIdx.z} * kNhwcShares + threadIdx.x / kNhwcChannels) {}
  __device__ int64_t slot(const ChannelView& v) const { return (ch * v.chunks + k) * kReduceThreads + t; }
};

template <typename S>
__global__ void __launch_bounds__(kReduceThreads)
    bn_thread_sums_nhwc_kernel(ChannelView v, const S* x, const double* center, double* thread_part) {
  const NhwcThread th;
  if (th.ch < v.c) thread_part[th.slot(v)] = thread_sum(v, x, center, th.ch, th.k, th.t);
}

// part[ch][k] = block_sum of the run's kReduceThreads partials: one block per (run, channel).
__global__ void __launch_bounds__(kReduceThreads)
    bn_tree_kernel(ChannelView v, const double* thread_part, double* part) {
  __shared__ double shared[kReduceThreads];
  const int64_t ch = blockIdx.y, k = blockIdx.x;
  const double s = block_sum(thread_part[(ch * v.chunks + k) * kReduceThreads + threadIdx.x], shared);
  if (threadIdx.x == 0) part[ch * v.chunks + k] = s;
}

// dy, or where a ReLU follows inside the op (the fused pair), dy where the ReLU let the value
// through: exactly what the separate ReLU backward would have written into a zeroed gradient.
template <typename S>
__device__ float dy_through_relu(const S* dy, const S* relu_y, int64_t i) {
  if (relu_y && !(ld(relu_y[i]) > 0.0f)) return 0.0f;
  return ld(dy[i]);
}

// Thread t's share (as thread_sum) of the sum of dy and of dy * (x - center[ch]) over run k.
template <typename S>
__device__ void thread_grad_sums(const ChannelView& v, const S* x, const S* dy, const S* relu_y, const float* center,
                                 int64_t ch, int64_t k, int64_t t, double& sdy, double& sdyxc) {
  const double mu = static_cast<double>(center[ch]);
  sdy = 0.0;
  sdyxc = 0.0;
  for (int64_t m = v.begin(k) + t; m < v.end(k); m += kReduceThreads) {
    const int64_t i = v.at(ch, m);
    const double d = static_cast<double>(dy_through_relu(dy, relu_y, i));
    sdy = __dadd_rn(sdy, d);
    sdyxc = __fma_rn(d, __dsub_rn(static_cast<double>(ld(x[i])), mu), sdyxc);
  }
}

// part_a[ch][k] = sum of dy, part_b[ch][k] = sum of dy * (x - center[ch]) over chunk k; NCHW.
template <typename S>
__global__ void __launch_bounds__(kReduceThreads)
    bn_grad_sums_kernel(ChannelView v, const S* x, const S* dy, const S* relu_y, const float* center, double* part_a,
                        double* part_b) {
  __shared__ double shared[kReduceThreads];
  const int64_t ch = blockIdx.y, k = blockIdx.x;
  double sdy = 0.0, sdyxc = 0.0;
  thread_grad_sums(v, x, dy, relu_y, center, ch, k, threadIdx.x, sdy, sdyxc);
  sdy = block_sum(sdy, shared);
  sdyxc = block_sum(sdyxc, shared);
  if (threadIdx.x == 0) {
    part_a[ch * v.chunks + k] = sdy;
    part_b[ch * v.chunks + k] = sdyxc;
  }
}

template <typename S>
__global__ void __launch_bounds__(kReduceThreads)
    bn_thread_grad_sums_nhwc_kernel(ChannelView v, const S* x, const S* dy, const S* relu_y, const float* center,
                                    double* thread_a, double* thread_b) {
  const NhwcThread th;
  if (th.ch >= v.c) return;
  double sdy = 0.0, sdyxc = 0.0;
  thread_grad_sums(v, x, dy, relu_y, center, th.ch, th.k, th.t, sdy, sdyxc);
  thread_a[th.slot(v)] = sdy;
  thread_b[th.slot(v)] = sdyxc;
}

// The per-channel run sums of either layout (NCHW: one block per run; channels-last: the shares,
// then their trees).
template <typename S>
void run_sums(Context& ctx, const ChannelView& v, const Scratch& sc, const S* x, const double* center, double* part) {
  if (!v.nhwc) {
    bn_sum_kernel<<<chunk_grid(v), kReduceThreads, 0, ctx.stream()>>>(v, x, center, part);
    THAW_CUDA_LAUNCH_CHECK("batchnorm sums");
    return;
  }
  bn_thread_sums_nhwc_kernel<<<nhwc_grid(v), kReduceThreads, 0, ctx.stream()>>>(v, x, center, sc.thread_a);
  THAW_CUDA_LAUNCH_CHECK("batchnorm channels-last sums");
  bn_tree_kernel<<<chunk_grid(v), kReduceThreads, 0, ctx.stream()>>>(v, sc.thread_a, part);
  THAW_CUDA_LAUNCH_CHECK("batchnorm channels-last sums' trees");
}

template <typename S>
void run_grad_sums(Context& ctx, const ChannelView& v, const Scratch& sc, const S* x, const S* dy, const S* relu_y,
                   const float* center) {
  if (!v.nhwc) {
    bn_grad_sums_kernel<<<chunk_grid(v), kReduceThreads, 0, ctx.stream()>>>(v, x, dy, relu_y, center, sc.part_a,
                                                                            sc.part_b);
    THAW_CUDA_LAUNCH_CHECK("batchnorm backward sums");
    return;
  }
  bn_thread_grad_sums_nhwc_kernel<<<nhwc_grid(v), kReduceThreads, 0, ctx.stream()>>>(v, x, dy, relu_y, center,
                                                                                       sc.thread_a, sc.thread_b);
  THAW_CUDA_LAUNCH_CHECK("batchnorm channels-last backward sums");
  bn_tree_kernel<<<chunk_grid(v), kReduceThreads, 0, ctx.stream()>>>(v, sc.thread_a, sc.part_a);
  bn_tree_kernel<<<chunk_grid(v), kReduceThreads, 0, ctx.stream()>>>(v, sc.thread_b, sc.part_b);
  THAW_CUDA_LAUNCH_CHECK("batchnorm channels-last backward sums' trees");
}

__device__ double chunk_total(const ChannelView& v, const double* part, int64_t ch) {
  double s = 0.0;
  for (int64_t k = 0; k < v.chunks; ++k) s += part[ch * v.chunks + k];
  return s;
}

__global__ void bn_mean_kernel(ChannelView v, const double* part, double* mean) {
  const int64_t ch = blockIdx.x * int64_t{blockDim.x} + threadIdx.x;
  if (ch < v.c) mean[ch] = chunk_total(v, part, ch) / static_cast<double>(v.values());
}

// Two passes (the variance of centred values), as the CPU twin; the running statistics as PyTorch.
__global__ void bn_train_stats_kernel(ChannelView v, double eps, double momentum, const Scratch sc, const float* gamma,
                                      const float* beta, float* running_mean, float* running_var, float* save_mean,
                                      float* save_invstd) {
  const int64_t ch = blockIdx.x * int64_t{blockDim.x} + threadIdx.x;
  if (ch >= v.c) return;
  const double m = static_cast<double>(v.values());
  const double mean = sc.mean[ch], var = chunk_total(v, sc.part_b, ch) / m;
  const double invstd = 1.0 / sqrt(var + eps);
  sc.center[ch] = static_cast<float>(mean);
  sc.scale[ch] = static_cast<float>(gamma[ch] * invstd);
  sc.shift[ch] = beta[ch];
  save_mean[ch] = static_cast<float>(mean);
  save_invstd[ch] = static_cast<float>(invstd);
  const double unbiased = var * m / (m - 1.0);
  running_mean[ch] = static_cast<float>((1.0 - momentum) * running_mean[ch] + momentum * mean);
  running_var[ch] = static_cast<float>((1.0 - momentum) * running_var[ch] + momentum * unbiased);
}

__global__ void bn_infer_coefficients_kernel(int64_t c, double eps, const float* gamma, const float* beta,
                                             const float* running_mean, const float* running_var, const Scratch sc) {
  const int64_t ch = blockIdx.x * int64_t{blockDim.x} + threadIdx.x;
  if (ch >= c) return;
  const double invstd = 1.0 / sqrt(static_cast<double>(running_var[ch]) + eps);
  sc.center[ch] = running_mean[ch];
  sc.scale[ch] = static_cast<float>(gamma[ch] * invstd);
  sc.shift[ch] = beta[ch];
}

// y = (x - center) * scale + shift, in float like the CPU twin.
// relu: the ReLU after the batch norm applied in the same pass (the batch norm's own output is
// never stored); the value is the float the separate ops would have given.
template <typename S>
__global__ void bn_affine_kernel(ChannelView v, const S* x, const Scratch sc, bool relu, S* y) {
  const int64_t total = v.n * v.c * v.hw;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < total; i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t ch = v.channel_of(i);
    float out = (ld(x[i]) - sc.center[ch]) * sc.scale[ch] + sc.shift[ch];
    if (relu) {
      // The separate ops round the batch norm's output to S before the ReLU sees it.
      out = ld(st<S>(out));
      out = out > 0.0f ? out : 0.0f;
    }
    y[i] = st<S>(out);
  }
}

// dgamma, dbeta and dx's coefficients: dx = gamma*invstd * (dy - mean(dy) - xhat * mean(dy*xhat)),
// xhat = (x - mean)*invstd, written as a*dy + slope*(x - center) + b (train), or k*dy (frozen
// statistics: slope and b zero).
__global__ void bn_backward_coefficients_kernel(ChannelView v, bool train, double eps, const float* gamma,
                                                const float* mean_f, const float* stat, const Scratch sc,
                                                float* dgamma, float* dbeta) {
  const int64_t ch = blockIdx.x * int64_t{blockDim.x} + threadIdx.x;
  if (ch >= v.c) return;
  const double m = static_cast<double>(v.values());
  // stat: save_invstd (train) or running_var (frozen).
  const double invstd = train ? static_cast<double>(stat[ch]) : 1.0 / sqrt(static_cast<double>(stat[ch]) + eps);
  const double sdy = chunk_total(v, sc.part_a, ch), sdyxc = chunk_total(v, sc.part_b, ch);
  if (dgamma) dgamma[ch] += static_cast<float>(sdyxc * invstd);
  if (dbeta) dbeta[ch] += static_cast<float>(sdy);
  const double k = gamma[ch] * invstd;
  sc.scale[ch] = static_cast<float>(k);
  sc.center[ch] = mean_f[ch];
  sc.shift[ch] = train ? static_cast<float>(-k * sdy / m) : 0.0f;
  sc.slope[ch] = train ? static_cast<float>(-k * invstd * invstd * sdyxc / m) : 0.0f;
}

template <typename S>
__global__ void bn_dx_kernel(ChannelView v, bool train, const S* x, const S* dy, const S* relu_y, const Scratch sc,
                             S* dx) {
  const int64_t total = v.n * v.c * v.hw;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < total; i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t ch = v.channel_of(i);
    const float d = dy_through_relu(dy, relu_y, i);
    const float g = train ? sc.scale[ch] * d + sc.slope[ch] * (ld(x[i]) - sc.center[ch]) + sc.shift[ch]
                          : sc.scale[ch] * d;
    dx[i] = st<S>(ld(dx[i]) + g);
  }
}

unsigned channel_blocks(int64_t c) { return static_cast<unsigned>((c + kElementwiseThreads - 1) / kElementwiseThreads); }

template <typename S>
void backward_common(Context& ctx, const BnGeom& g, bool train, const S* x, const S* dy, const S* relu_y,
                     const float* gamma, const float* mean_f, const float* stat, S* dx, float* dgamma, float* dbeta,
                     Layout layout) {
  const ChannelView v = view_of(g, layout);
  const Scratch sc = scratch_of(ctx, v);
  if (train || dgamma || dbeta) {
    run_grad_sums(ctx, v, sc, x, dy, relu_y, mean_f);
  } else {
    THAW_CUDA_CHECK(cudaMemsetAsync(sc.part_a, 0, static_cast<size_t>(v.c * v.chunks) * 8, ctx.stream()));
    THAW_CUDA_CHECK(cudaMemsetAsync(sc.part_b, 0, static_cast<size_t>(v.c * v.chunks) * 8, ctx.stream()));
  }
  bn_backward_coefficients_kernel<<<channel_blocks(v.c), kElementwiseThreads, 0, ctx.stream()>>>(
      v, train, g.eps, gamma, mean_f, stat, sc, dgamma, dbeta);
  THAW_CUDA_LAUNCH_CHECK("batchnorm backward coefficients");
  if (!dx) return;
  bn_dx_kernel<<<elementwise_blocks(g.size()), kElementwiseThreads, 0, ctx.stream()>>>(v, train, x, dy, relu_y, sc,
                                                                                        dx);
  THAW_CUDA_LAUNCH_CHECK("batchnorm backward dx");
}

}  // namespace

template <typename S>
void batchnorm_forward_train(Context& ctx, const BnGeom& g, const S* x, const float* gamma, const float* beta,
                             float* running_mean, float* running_var, S* y, float* save_mean, float* save_invstd,
                             bool relu, Layout layout) {
  THAW_CHECK(g.n * g.hw > 1, "batch norm training needs more than one value per channel, got ", g.n * g.hw);
  const ChannelView v = view_of(g, layout);
  const Scratch sc = scratch_of(ctx, v);
  run_sums(ctx, v, sc, x, nullptr, sc.part_a);
  bn_mean_kernel<<<channel_blocks(v.c), kElementwiseThreads, 0, ctx.stream()>>>(v, sc.part_a, sc.mean);
  THAW_CUDA_LAUNCH_CHECK("batchnorm_forward_train mean");
  run_sums(ctx, v, sc, x, sc.mean, sc.part_b);
  bn_train_stats_kernel<<<channel_blocks(v.c), kElementwiseThreads, 0, ctx.stream()>>>(
      v, g.eps, g.momentum, sc, gamma, beta, running_mean, running_var, save_mean, save_invstd);
  THAW_CUDA_LAUNCH_CHECK("batchnorm_forward_train statistics");
  bn_affine_kernel<<<elementwise_blocks(g.size()), kElementwiseThreads, 0, ctx.stream()>>>(v, x, sc, relu, y);
  THAW_CUDA_LAUNCH_CHECK("batchnorm_forward_train affine");
}

template <typename S>
void batchnorm_forward_infer(Context& ctx, const BnGeom& g, const S* x, const float* gamma, const float* beta,
                             const float* running_mean, const float* running_var, S* y, bool relu,
                             Layout layout) {
  const ChannelView v = view_of(g, layout);
  const Scratch sc = scratch_of(ctx, v);
  bn_infer_coefficients_kernel<<<channel_blocks(v.c), kElementwiseThreads, 0, ctx.stream()>>>(
      v.c, g.eps, gamma, beta, running_mean, running_var, sc);
  THAW_CUDA_LAUNCH_CHECK("batchnorm_forward_infer coefficients");
  bn_affine_kernel<<<elementwise_blocks(g.size()), kElementwiseThreads, 0, ctx.stream()>>>(v, x, sc, relu, y);
  THAW_CUDA_LAUNCH_CHECK("batchnorm_forward_infer");
}

template <typename S>
void batchnorm_backward_train(Context& ctx, const BnGeom& g, const S* x, const S* dy, const float* gamma,
                              const float* save_mean, const float* save_invstd, S* dx, float* dgamma, float* dbeta,
                              const S* relu_y, Layout layout) {
  backward_common(ctx, g, true, x, dy, relu_y, gamma, save_mean, save_invstd, dx, dgamma, dbeta, layout);
}

template <typename S>
void batchnorm_backward_infer(Context& ctx, const BnGeom& g, const S* x, const S* dy, const float* gamma,
                              const float* running_mean, const float* running_var, S* dx, float* dgamma,
                              float* dbeta, const S* relu_y, Layout layout) {
  backward_common(ctx, g, false, x, dy, relu_y, gamma, running_mean, running_var, dx, dgamma, dbeta, layout);
}

#define THAW_BATCHNORM(S)                                                                                        \
  template void batchnorm_forward_train<S>(Context&, const BnGeom&, const S*, const float*, const float*, float*,  \
                                           float*, S*, float*, float*, bool, Layout);                              \
  template void batchnorm_forward_infer<S>(Context&, const BnGeom&, const S*, const float*, const float*,         \
                                           const float*, const float*, S*, bool, Layout);                          \
  template void batchnorm_backward_train<S>(Context&, const BnGeom&, const S*, const S*, const float*,             \
                                            const float*, const float*, S*, float*, float*, const S*, Layout);     \
  template void batchnorm_backward_infer<S>(Context&, const BnGeom&, const S*, const S*, const float*,             \
                                            const float*, const float*, S*, float*, float*, const S*, Layout);
THAW_FOR_STORAGE_TYPES(THAW_BATCHNORM)

}  // namespace thaw::cuda
