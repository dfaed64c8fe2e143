#include "kernels/cpu/batchnorm.h"

#include <cmath>

#include "core/error.h"
#include "kernels/cpu/fixed_sum.h"

namespace thaw::cpu {

namespace {

// Sum over the n planes of channel c (each hw long, planes c_count*hw apart), planes in order.
template <typename Term>
double channel_sum(const BnGeom& g, int64_t c, Term&& term) {
  double s = 0;
  for (int64_t n = 0; n < g.n; ++n) {
    const int64_t base = (n * g.c + c) * g.hw;
    s += fixed_sum(g.hw, [&](int64_t i) { return term(base + i); });
  }
  return s;
}

// y = (x - center) * scale + shift over channel c; with Relu, max(y, 0) as relu_forward takes it.
// y's samples lie y_stride apart (0: packed like x).
template <bool Relu = false, typename T>
void channel_affine(const BnGeom& g, int64_t c, const T* x, T center, T scale, T shift, T* y, int64_t y_stride = 0) {
  const int64_t ys = y_stride > 0 ? y_stride : g.c * g.hw;
  for (int64_t n = 0; n < g.n; ++n) {
    const T* xs = x + (n * g.c + c) * g.hw;
    T* out = y + n * ys + c * g.hw;
    for (int64_t i = 0; i < g.hw; ++i) {
      const T v = (xs[i] - center) * scale + shift;
      out[i] = Relu ? (v > T{0} ? v : T{0}) : v;
    }
  }
}

}  // namespace

template <typename T>
void batchnorm_forward_train(const BnGeom& g, const T* x, const T* gamma, const T* beta,
                             T* running_mean, T* running_var, T* y, T* save_mean, T* save_invstd, bool relu) {
  const int64_t m = g.n * g.hw;
  THAW_CHECK(m > 1, "batch norm training needs more than one value per channel, got ", m);
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < g.c; ++c) {
    const double mean = channel_sum(g, c, [&](int64_t i) { return static_cast<double>(x[i]); }) / m;
    // Two passes: the variance of centred values, not E[x^2] - mean^2, which cancels badly.
    const double var = channel_sum(g, c, [&](int64_t i) {
                         const double d = static_cast<double>(x[i]) - mean;
                         return d * d;
                       }) / m;
    const double invstd = 1.0 / std::sqrt(var + g.eps);
    if (relu) {
      channel_affine<true>(g, c, x, static_cast<T>(mean), static_cast<T>(gamma[c] * invstd), beta[c], y);
    } else {
      channel_affine(g, c, x, static_cast<T>(mean), static_cast<T>(gamma[c] * invstd), beta[c], y);
    }
    save_mean[c] = static_cast<T>(mean);
    save_invstd[c] = static_cast<T>(invstd);
    const double unbiased = var * static_cast<double>(m) / static_cast<double>(m - 1);
    running_mean[c] = static_cast<T>((1.0 - g.momentum) * running_mean[c] + g.momentum * mean);
    running_var[c] = static_cast<T>((1.0 - g.momentum) * running_var[c] + g.momentum * unbiased);
  }
}

template <typename T>
void batchnorm_forward_infer(const BnGeom& g, const T* x, const T* gamma, const T* beta,
                             const T* running_mean, const T* running_var, T* y, bool relu,
                             int64_t y_sample_stride) {
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < g.c; ++c) {
    const double invstd = 1.0 / std::sqrt(static_cast<double>(running_var[c]) + g.eps);
    const T scale = static_cast<T>(gamma[c] * invstd);
    if (relu) {
      channel_affine<true>(g, c, x, running_mean[c], scale, beta[c], y, y_sample_stride);
    } else {
      channel_affine(g, c, x, running_mean[c], scale, beta[c], y, y_sample_stride);
    }
  }
}

template <typename T>
void batchnorm_backward_train(const BnGeom& g, const T* x, const T* dy, const T* gamma,
                              const T* save_mean, const T* save_invstd, T* dx, T* dgamma, T* dbeta) {
  const double m = static_cast<double>(g.n * g.hw);
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < g.c; ++c) {
    const double mean = save_mean[c], invstd = save_invstd[c];
    const double sdy = channel_sum(g, c, [&](int64_t i) { return static_cast<double>(dy[i]); });
    const double sdyxc = channel_sum(g, c, [&](int64_t i) {
      return static_cast<double>(dy[i]) * (static_cast<double>(x[i]) - mean);
    });
    if (dgamma) dgamma[c] += static_cast<T>(sdyxc * invstd);
    if (dbeta) dbeta[c] += static_cast<T>(sdy);
    if (!dx) continue;
    // dx = gamma*invstd * (dy - mean(dy) - xhat * mean(dy*xhat)), with xhat = (x - mean)*invstd.
    const double k = gamma[c] * invstd;
    const T a = static_cast<T>(k), b = static_cast<T>(-k * sdy / m);
    const T slope = static_cast<T>(-k * invstd * invstd * sdyxc / m), tm = static_cast<T>(mean);
    for (int64_t n = 0; n < g.n; ++n) {
      const int64_t base = (n * g.c + c) * g.hw;
      for (int64_t i = base; i < base + g.hw; ++i) dx[i] += a * dy[i] + slope * (x[i] - tm) + b;
    }
  }
}

template <typename T>
void batchnorm_backward_infer(const BnGeom& g, const T* x, const T* dy, const T* gamma,
                              const T* running_mean, const T* running_var, T* dx, T* dgamma, T* dbeta) {
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < g.c; ++c) {
    const double invstd = 1.0 / std::sqrt(static_cast<double>(running_var[c]) + g.eps);
    const double rm = running_mean[c];
    if (dgamma) {
      const double sdyxc = channel_sum(g, c, [&](int64_t i) {
        return static_cast<double>(dy[i]) * (static_cast<double>(x[i]) - rm);
      });
      dgamma[c] += static_cast<T>(sdyxc * invstd);
    }
    if (dbeta) dbeta[c] += static_cast<T>(channel_sum(g, c, [&](int64_t i) { return static_cast<double>(dy[i]); }));
    if (!dx) continue;
    const T k = static_cast<T>(gamma[c] * invstd);
    for (int64_t n = 0; n < g.n; ++n) {
      const int64_t base = (n * g.c + c) * g.hw;
      for (int64_t i = base; i < base + g.hw; ++i) dx[i] += k * dy[i];
    }
  }
}

#define THAW_INSTANTIATE(T)                                                                          \
  template void batchnorm_forward_train<T>(const BnGeom&, const T*, const T*, const T*, T*, T*, T*,  \
                                           T*, T*, bool);                                            \
  template void batchnorm_forward_infer<T>(const BnGeom&, const T*, const T*, const T*, const T*,    \
                                           const T*, T*, bool, int64_t);                             \
  template void batchnorm_backward_train<T>(const BnGeom&, const T*, const T*, const T*, const T*,   \
                                            const T*, T*, T*, T*);                                   \
  template void batchnorm_backward_infer<T>(const BnGeom&, const T*, const T*, const T*, const T*,   \
                                            const T*, T*, T*, T*);
THAW_INSTANTIATE(float)
THAW_INSTANTIATE(double)
#undef THAW_INSTANTIATE

}  // namespace thaw::cpu
