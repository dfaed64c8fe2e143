#include "kernels/cuda/batchnorm.h"

#include "core/error.h"
#include "kernels/cuda/block_reduce.cuh"
#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"

namespace thaw::cuda {

namespace {

// Geometry of one channel inside NCHW: n planes of hw values, planes c*hw apart.
struct ChannelView {
  int64_t n, c, hw;
  __device__ int64_t base(int64_t sample, int64_t channel) const { return (sample * c + channel) * hw; }
};

// Sum of term(i) over channel `ch` in double. Thread t takes plane elements t, t+T, ... of every
// plane in plane order; the block then combines the partials in the fixed tree.
template <typename Term>
__device__ double channel_sum(const ChannelView& v, int64_t ch, double* shared, Term term) {
  double partial = 0.0;
  for (int64_t s = 0; s < v.n; ++s) {
    const int64_t b = v.base(s, ch);
    for (int64_t i = threadIdx.x; i < v.hw; i += kReduceThreads) partial += term(b + i);
  }
  return block_sum(partial, shared);
}

// y = (x - center) * scale + shift over the channel, in float like the CPU twin.
template <typename S>
__device__ void channel_affine(const ChannelView& v, int64_t ch, const S* x, float center, float scale, float shift,
                               S* y) {
  for (int64_t s = 0; s < v.n; ++s) {
    const int64_t b = v.base(s, ch);
    for (int64_t i = threadIdx.x; i < v.hw; i += kReduceThreads) y[b + i] = st<S>((ld(x[b + i]) - center) * scale + shift);
  }
}

template <typename S>
__global__ void __launch_bounds__(kReduceThreads)
    bn_forward_train_kernel(ChannelView v, double eps, double momentum, const S* x, const float* gamma,
                            const float* beta, float* running_mean, float* running_var, S* y, float* save_mean,
                            float* save_invstd) {
  __shared__ double shared[kReduceThreads];
  const int64_t ch = blockIdx.x;
  const double m = static_cast<double>(v.n * v.hw);
  const double mean = channel_sum(v, ch, shared, [&](int64_t i) { return static_cast<double>(ld(x[i])); }) / m;
  // Two passes: the variance of centred values, as the CPU twin does.
  const double var = channel_sum(v, ch, shared, [&](int64_t i) {
                       const double d = static_cast<double>(ld(x[i])) - mean;
                       return d * d;
                     }) / m;
  const double invstd = 1.0 / sqrt(var + eps);
  channel_affine(v, ch, x, static_cast<float>(mean), static_cast<float>(gamma[ch] * invstd), beta[ch], y);
  if (threadIdx.x == 0) {
    save_mean[ch] = static_cast<float>(mean);
    save_invstd[ch] = static_cast<float>(invstd);
    const double unbiased = var * m / (m - 1.0);
    running_mean[ch] = static_cast<float>((1.0 - momentum) * running_mean[ch] + momentum * mean);
    running_var[ch] = static_cast<float>((1.0 - momentum) * running_var[ch] + momentum * unbiased);
  }
}

template <typename S>
__global__ void __launch_bounds__(kReduceThreads)
    bn_forward_infer_kernel(ChannelView v, double eps, const S* x, const float* gamma, const float* beta,
                            const float* running_mean, const float* running_var, S* y) {
  const int64_t ch = blockIdx.x;
  const double invstd = 1.0 / sqrt(static_cast<double>(running_var[ch]) + eps);
  channel_affine(v, ch, x, running_mean[ch], static_cast<float>(gamma[ch] * invstd), beta[ch], y);
}

template <typename S>
__global__ void __launch_bounds__(kReduceThreads)
    bn_backward_train_kernel(ChannelView v, const S* x, const S* dy, const float* gamma, const float* save_mean,
                             const float* save_invstd, S* dx, float* dgamma, float* dbeta) {
  __shared__ double shared[kReduceThreads];
  const int64_t ch = blockIdx.x;
  const double m = static_cast<double>(v.n * v.hw);
  const double mean = save_mean[ch], invstd = save_invstd[ch];
  const double sdy = channel_sum(v, ch, shared, [&](int64_t i) { return static_cast<double>(ld(dy[i])); });
  const double sdyxc = channel_sum(v, ch, shared, [&](int64_t i) {
    return static_cast<double>(ld(dy[i])) * (static_cast<double>(ld(x[i])) - mean);
  });
  if (threadIdx.x == 0) {
    if (dgamma) dgamma[ch] += static_cast<float>(sdyxc * invstd);
    if (dbeta) dbeta[ch] += static_cast<float>(sdy);
  }
  if (!dx) return;
  // dx = gamma*invstd * (dy - mean(dy) - xhat * mean(dy*xhat)), xhat = (x - mean)*invstd.
  const double k = gamma[ch] * invstd;
  const float a = static_cast<float>(k), b = static_cast<float>(-k * sdy / m);
  const float slope = static_cast<float>(-k * invstd * invstd * sdyxc / m), tm = static_cast<float>(mean);
  for (int64_t s = 0; s < v.n; ++s) {
    const int64_t base = v.base(s, ch);
    for (int64_t i = base + threadIdx.x; i < base + v.hw; i += kReduceThreads) {
      dx[i] = st<S>(ld(dx[i]) + (a * ld(dy[i]) + slope * (ld(x[i]) - tm) + b));
    }
  }
}

template <typename S>
__global__ void __launch_bounds__(kReduceThreads)
    bn_backward_infer_kernel(ChannelView v, double eps, const S* x, const S* dy, const float* gamma,
                             const float* running_mean, const float* running_var, S* dx, float* dgamma,
                             float* dbeta) {
  __shared__ double shared[kReduceThreads];
  const int64_t ch = blockIdx.x;
  const double invstd = 1.0 / sqrt(static_cast<double>(running_var[ch]) + eps);
  const double rm = running_mean[ch];
  // Each branch is taken by the whole block, so the reductions inside stay block-uniform.
  if (dgamma) {
    const double sdyxc = channel_sum(v, ch, shared, [&](int64_t i) {
      return static_cast<double>(ld(dy[i])) * (static_cast<double>(ld(x[i])) - rm);
    });
    if (threadIdx.x == 0) dgamma[ch] += static_cast<float>(sdyxc * invstd);
  }
  if (dbeta) {
    const double sdy = channel_sum(v, ch, shared, [&](int64_t i) { return static_cast<double>(ld(dy[i])); });
    if (threadIdx.x == 0) dbeta[ch] += static_cast<float>(sdy);
  }
  if (!dx) return;
  const float k = static_cast<float>(gamma[ch] * invstd);
  for (int64_t s = 0; s < v.n; ++s) {
    const int64_t base = v.base(s, ch);
    for (int64_t i = base + threadIdx.x; i < base + v.hw; i += kReduceThreads) {
      dx[i] = st<S>(ld(dx[i]) + k * ld(dy[i]));
    }
  }
}

ChannelView view_of(const BnGeom& g) {
  THAW_CHECK(g.n >= 1 && g.c >= 1 && g.hw >= 1, "batch norm geometry n=", g.n, " c=", g.c, " hw=", g.hw);
  THAW_CHECK(g.c <= 0x7fffffff, "batch norm: ", g.c, " channels exceed one grid dimension");
  return ChannelView{g.n, g.c, g.hw};
}

}  // namespace

template <typename S>
void batchnorm_forward_train(Context& ctx, const BnGeom& g, const S* x, const float* gamma, const float* beta,
                             float* running_mean, float* running_var, S* y, float* save_mean, float* save_invstd) {
  THAW_CHECK(g.n * g.hw > 1, "batch norm training needs more than one value per channel, got ", g.n * g.hw);
  const ChannelView v = view_of(g);
  bn_forward_train_kernel<<<static_cast<unsigned>(g.c), kReduceThreads, 0, ctx.stream()>>>(
      v, g.eps, g.momentum, x, gamma, beta, running_mean, running_var, y, save_mean, save_invstd);
  THAW_CUDA_LAUNCH_CHECK("batchnorm_forward_train");
}

template <typename S>
void batchnorm_forward_infer(Context& ctx, const BnGeom& g, const S* x, const float* gamma, const float* beta,
                             const float* running_mean, const float* running_var, S* y) {
  const ChannelView v = view_of(g);
  bn_forward_infer_kernel<<<static_cast<unsigned>(g.c), kReduceThreads, 0, ctx.stream()>>>(
      v, g.eps, x, gamma, beta, running_mean, running_var, y);
  THAW_CUDA_LAUNCH_CHECK("batchnorm_forward_infer");
}

template <typename S>
void batchnorm_backward_train(Context& ctx, const BnGeom& g, const S* x, const S* dy, const float* gamma,
                              const float* save_mean, const float* save_invstd, S* dx, float* dgamma, float* dbeta) {
  const ChannelView v = view_of(g);
  bn_backward_train_kernel<<<static_cast<unsigned>(g.c), kReduceThreads, 0, ctx.stream()>>>(
      v, x, dy, gamma, save_mean, save_invstd, dx, dgamma, dbeta);
  THAW_CUDA_LAUNCH_CHECK("batchnorm_backward_train");
}

template <typename S>
void batchnorm_backward_infer(Context& ctx, const BnGeom& g, const S* x, const S* dy, const float* gamma,
                              const float* running_mean, const float* running_var, S* dx, float* dgamma,
                              float* dbeta) {
  const ChannelView v = view_of(g);
  bn_backward_infer_kernel<<<static_cast<unsigned>(g.c), kReduceThreads, 0, ctx.stream()>>>(
      v, g.eps, x, dy, gamma, running_mean, running_var, dx, dgamma, dbeta);
  THAW_CUDA_LAUNCH_CHECK("batchnorm_backward_infer");
}

#define THAW_BATCHNORM(S)                                                                                        \
  template void batchnorm_forward_train<S>(Context&, const BnGeom&, const S*, const float*, const float*, float*,  \
                                           float*, S*, float*, float*);                                            \
  template void batchnorm_forward_infer<S>(Context&, const BnGeom&, const S*, const float*, const float*,         \
                                           const float*, const float*, S*);                                        \
  template void batchnorm_backward_train<S>(Context&, const BnGeom&, const S*, const S*, const float*,             \
                                            const float*, const float*, S*, float*, float*);                       \
  template void batchnorm_backward_infer<S>(Context&, const BnGeom&, const S*, const S*, const float*,             \
                                            const float*, const float*, S*, float*, float*);
THAW_FOR_STORAGE_TYPES(THAW_BATCHNORM)

}  // namespace thaw::cuda
