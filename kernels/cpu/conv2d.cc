#include "kernels/cpu/conv2d.h"

#include <Eigen/Core>
#include <algorithm>
#include <cstring>
#include <memory>

namespace thaw::cpu {

namespace {

template <typename T>
using RowMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <typename T>
using ConstMap = Eigen::Map<const RowMat<T>>;
template <typename T>
using MutMap = Eigen::Map<RowMat<T>>;
// A block of a larger row-major matrix (row stride ld).
template <typename T>
using ConstTile = Eigen::Map<const RowMat<T>, 0, Eigen::OuterStride<>>;
template <typename T>
using MutTile = Eigen::Map<RowMat<T>, 0, Eigen::OuterStride<>>;

// Backward-weight work items are tiles of dW of this fixed shape: the tiling, and so every
// tile's GEMM shape and summation order, never depends on the number of threads.
constexpr int64_t kWgradTileRows = 32;
constexpr int64_t kWgradTileCols = 256;

// A 1x1 stride-1 unpadded convolution reads the input plane as its column matrix unchanged.
bool is_pointwise(const ConvGeom& g) {
  return g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.ph == 0 && g.pw == 0;
}

// Output columns ow whose input column ow*sw - pw + kj lies inside [0, w_in): [lo, hi).
struct ColRange {
  int64_t lo, hi;
};
ColRange valid_cols(const ConvGeom& g, int64_t kj) {
  const int64_t wo = g.w_out();
  const int64_t first = g.pw - kj;  // ow*sw >= first
  int64_t lo = first <= 0 ? 0 : (first + g.sw - 1) / g.sw;
  const int64_t last = g.w_in - 1 + g.pw - kj;  // ow*sw <= last
  int64_t hi = last < 0 ? 0 : last / g.sw + 1;
  lo = std::min(lo, wo);
  hi = std::clamp(hi, lo, wo);
  return {lo, hi};
}

// Writes the kh*kw rows (each h_out*w_out long) that input channel plane `xp` contributes to the
// column matrix.
template <typename T>
void im2col_channel(const ConvGeom& g, const T* xp, T* rows) {
  const int64_t ho = g.h_out(), wo = g.w_out(), p = ho * wo;
  for (int64_t ki = 0; ki < g.kh; ++ki) {
    for (int64_t kj = 0; kj < g.kw; ++kj) {
      T* row = rows + (ki * g.kw + kj) * p;
      const ColRange r = valid_cols(g, kj);
      for (int64_t oh = 0; oh < ho; ++oh) {
        T* out = row + oh * wo;
        const int64_t ih = oh * g.sh - g.ph + ki;
        if (ih < 0 || ih >= g.h_in) {
          std::fill(out, out + wo, T{0});
          continue;
        }
        const int64_t base = ih * g.w_in - g.pw + kj;  // xp[base + ow*sw] lies under column ow
        std::fill(out, out + r.lo, T{0});
        if (g.sw == 1) {
          std::copy(xp + base + r.lo, xp + base + r.hi, out + r.lo);
        } else {
          for (int64_t ow = r.lo; ow < r.hi; ++ow) out[ow] = xp[base + ow * g.sw];
        }
        std::fill(out + r.hi, out + wo, T{0});
      }
    }
  }
}

// Adds the kh*kw column rows of one input channel back onto its plane, in a fixed order.
template <typename T>
void col2im_channel_add(const ConvGeom& g, const T* rows, T* xp) {
  const int64_t ho = g.h_out(), wo = g.w_out(), p = ho * wo;
  for (int64_t ki = 0; ki < g.kh; ++ki) {
    for (int64_t kj = 0; kj < g.kw; ++kj) {
      const T* row = rows + (ki * g.kw + kj) * p;
      const ColRange r = valid_cols(g, kj);
      for (int64_t oh = 0; oh < ho; ++oh) {
        const int64_t ih = oh * g.sh - g.ph + ki;
        if (ih < 0 || ih >= g.h_in) continue;
        const T* in = row + oh * wo;
        const int64_t base = ih * g.w_in - g.pw + kj;
        for (int64_t ow = r.lo; ow < r.hi; ++ow) xp[base + ow * g.sw] += in[ow];
      }
    }
  }
}

template <typename T>
void im2col(const ConvGeom& g, const T* xn, T* col) {
  const int64_t plane = g.h_in * g.w_in, rows = g.kh * g.kw * g.h_out() * g.w_out();
  for (int64_t c = 0; c < g.c_in; ++c) im2col_channel(g, xn + c * plane, col + c * rows);
}

}  // namespace

template <typename T>
void conv2d_forward(const ConvGeom& g, const T* x, const T* w, T* y) {
  const int64_t k = g.c_in * g.kh * g.kw, p = g.h_out() * g.w_out();
  const int64_t x_stride = g.c_in * g.h_in * g.w_in, y_stride = g.c_out * p;
  const bool direct = is_pointwise(g);
  const ConstMap<T> wm(w, g.c_out, k);
  // One sample per work item: each output element is one GEMM dot product of a fixed shape.
#pragma omp parallel
  {
    std::unique_ptr<T[]> col;
    if (!direct) col = std::make_unique_for_overwrite<T[]>(static_cast<size_t>(k * p));
#pragma omp for schedule(static)
    for (int64_t n = 0; n < g.n; ++n) {
      const T* cp = x + n * x_stride;
      if (!direct) {
        im2col(g, cp, col.get());
        cp = col.get();
      }
      MutMap<T> ym(y + n * y_stride, g.c_out, p);
      ym.noalias() = wm * ConstMap<T>(cp, k, p);
    }
  }
}

template <typename T>
void conv2d_backward_data(const ConvGeom& g, const T* dy, const T* w, T* dx) {
  const int64_t k = g.c_in * g.kh * g.kw, p = g.h_out() * g.w_out();
  const int64_t x_stride = g.c_in * g.h_in * g.w_in, y_stride = g.c_out * p;
  const bool direct = is_pointwise(g);
  const ConstMap<T> wm(w, g.c_out, k);
#pragma omp parallel
  {
    std::unique_ptr<T[]> col;
    if (!direct) col = std::make_unique_for_overwrite<T[]>(static_cast<size_t>(k * p));
#pragma omp for schedule(static)
    for (int64_t n = 0; n < g.n; ++n) {
      const ConstMap<T> dym(dy + n * y_stride, g.c_out, p);
      if (direct) {
        MutMap<T>(dx + n * x_stride, k, p).noalias() += wm.transpose() * dym;
        continue;
      }
      MutMap<T>(col.get(), k, p).noalias() = wm.transpose() * dym;
      const int64_t plane = g.h_in * g.w_in, rows = g.kh * g.kw * p;
      for (int64_t c = 0; c < g.c_in; ++c) {
        col2im_channel_add(g, col.get() + c * rows, dx + n * x_stride + c * plane);
      }
    }
  }
}

template <typename T>
void conv2d_backward_weight(const ConvGeom& g, const T* x, const T* dy, T* dw) {
  const int64_t k = g.c_in * g.kh * g.kw, p = g.h_out() * g.w_out();
  const int64_t x_stride = g.c_in * g.h_in * g.w_in, y_stride = g.c_out * p;
  const bool direct = is_pointwise(g);
  const int64_t tiles_r = (g.c_out + kWgradTileRows - 1) / kWgradTileRows;
  const int64_t tiles_c = (k + kWgradTileCols - 1) / kWgradTileCols;
  std::unique_ptr<T[]> col;
  if (!direct) col = std::make_unique_for_overwrite<T[]>(static_cast<size_t>(k * p));
  // Samples are added in order 0..n-1 into each tile of dW; a tile is owned by one thread per
  // sample, and the implicit barriers keep the column buffer stable while it is read.
#pragma omp parallel
  for (int64_t n = 0; n < g.n; ++n) {
    const T* cp = x + n * x_stride;
    if (!direct) {
      const int64_t plane = g.h_in * g.w_in, rows = g.kh * g.kw * p;
#pragma omp for schedule(static)
      for (int64_t c = 0; c < g.c_in; ++c) im2col_channel(g, cp + c * plane, col.get() + c * rows);
      cp = col.get();
    }
#pragma omp for schedule(dynamic, 1)
    for (int64_t t = 0; t < tiles_r * tiles_c; ++t) {
      const int64_t r0 = (t / tiles_c) * kWgradTileRows, c0 = (t % tiles_c) * kWgradTileCols;
      const int64_t nr = std::min(kWgradTileRows, g.c_out - r0), nc = std::min(kWgradTileCols, k - c0);
      const ConstTile<T> dyt(dy + n * y_stride + r0 * p, nr, p, Eigen::OuterStride<>(p));
      const ConstTile<T> colt(cp + c0 * p, nc, p, Eigen::OuterStride<>(p));
      MutTile<T> dwt(dw + r0 * k + c0, nr, nc, Eigen::OuterStride<>(k));
      dwt.noalias() += dyt * colt.transpose();
    }
  }
}

#define THAW_INSTANTIATE(T)                                                         \
  template void conv2d_forward<T>(const ConvGeom&, const T*, const T*, T*);         \
  template void conv2d_backward_data<T>(const ConvGeom&, const T*, const T*, T*);   \
  template void conv2d_backward_weight<T>(const ConvGeom&, const T*, const T*, T*);
THAW_INSTANTIATE(float)
THAW_INSTANTIATE(double)
#undef THAW_INSTANTIATE

}  // namespace thaw::cpu
