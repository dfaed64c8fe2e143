#include "kernels/cpu/conv2d.h"

#include <algorithm>
#include <memory>
#include <type_traits>

#include "kernels/cpu/conv2d_grouped.h"
#include "kernels/cpu/eigen_maps.h"

#include "core/error.h"

namespace thaw::cpu {

// How the work is cut, and why the bits never depend on the thread count:
// - A sample's output rows are processed in bands whose column matrix (K x band) stays near
//   kColBudget elements, so im2col output is still in cache when the GEMM reads it, and whose
//   width is at least kMinBandCols. The band height is a function of the shape alone.
// - Forward: one work item per (sample, band); each output element is one GEMM of a fixed shape.
// - Backward data: one work item per sample (bands in order: their col2im footprints overlap).
// - Backward weight, K >= kWgradSliceMinK: one work item per slice of kWgradSliceCols columns
//   of dW, adding every (sample, band) GEMM into it in order. Below that K there are too few
//   slices to share out, so instead: one partial dW per sample (bands accumulated in order),
//   then dW += the partials of a group of kWgradGroup samples, summed in sample order.
// Which thread runs an item never changes what the item computes. The gradients of float
// convolutions on tiny maps take the grouped path instead (kernels/cpu/conv2d_grouped.h); double
// ones (the gradient checks) always this one.

namespace {

constexpr int64_t kColBudget = int64_t{1} << 17;  // elements of one band's column matrix
constexpr int64_t kMinBandCols = 256;             // output positions per band, at least
constexpr int64_t kWgradGroup = 8;                // samples whose partial dW are held at once
constexpr int64_t kSumChunk = 1024;               // dW elements per reduction work item
constexpr int64_t kWgradSliceCols = 128;          // dW columns per work item, wide-K layers
constexpr int64_t kWgradSliceMinK = 1024;         // K from which dW is cut in column slices

// Shape-derived constants of one convolution.
struct Plan {
  int64_t k, ho, wo, p, x_stride, y_stride, band_rows, bands;
  bool direct;  // 1x1, stride 1, unpadded: the input plane already is the column matrix
};

Plan make_plan(const ConvGeom& g) {
  THAW_CHECK(g.n >= 1 && g.c_in >= 1 && g.c_out >= 1 && g.kh >= 1 && g.kw >= 1 && g.sh >= 1 && g.sw >= 1 &&
                 g.ph >= 0 && g.pw >= 0 && g.h_out() >= 1 && g.w_out() >= 1,
             "convolution geometry ", g.n, "x", g.c_in, "x", g.h_in, "x", g.w_in, " -> ", g.c_out, " kernel ", g.kh,
             "x", g.kw, " stride ", g.sh, "x", g.sw, " pad ", g.ph, "x", g.pw, " is empty or invalid");
  Plan pl{};
  pl.k = g.c_in * g.kh * g.kw;
  pl.ho = g.h_out(), pl.wo = g.w_out(), pl.p = pl.ho * pl.wo;
  pl.x_stride = g.c_in * g.h_in * g.w_in, pl.y_stride = g.c_out * pl.p;
  pl.direct = g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.ph == 0 && g.pw == 0;
  if (pl.direct) {
    pl.bands = 1;
  } else {
    // Near the budget, but never so narrow that repacking W for every band's GEMM shows.
    const int64_t rows = std::max(kColBudget / (pl.k * pl.wo), (kMinBandCols + pl.wo - 1) / pl.wo);
    pl.bands = std::max<int64_t>(1, pl.ho / rows);
  }
  pl.band_rows = (pl.ho + pl.bands - 1) / pl.bands;
  pl.bands = (pl.ho + pl.band_rows - 1) / pl.band_rows;
  return pl;
}

struct Band {
  int64_t oh0, oh1;
  int64_t cols(const Plan& pl) const { return (oh1 - oh0) * pl.wo; }
};

Band band_at(const Plan& pl, int64_t b) { return {b * pl.band_rows, std::min(pl.ho, (b + 1) * pl.band_rows)}; }

// Output columns ow whose input column ow*sw - pw + kj lies inside [0, w_in): [lo, hi).
struct ColRange {
  int64_t lo, hi;
};
ColRange valid_cols(const ConvGeom& g, int64_t wo, int64_t kj) {
  const int64_t first = g.pw - kj;  // ow*sw >= first
  int64_t lo = first <= 0 ? 0 : (first + g.sw - 1) / g.sw;
  const int64_t last = g.w_in - 1 + g.pw - kj;  // ow*sw <= last
  int64_t hi = last < 0 ? 0 : last / g.sw + 1;
  lo = std::min(lo, wo);
  hi = std::clamp(hi, lo, wo);
  return {lo, hi};
}

// Rows [r0, r1) of one sample's column matrix over a band of output rows: row r = (c, ki, kj),
// column (oh - oh0, ow).
template <typename T>
void im2col_rows(const ConvGeom& g, const Plan& pl, const T* xn, Band band, int64_t r0, int64_t r1, T* col) {
  const int64_t pb = band.cols(pl), wo = pl.wo;
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t c = r / (g.kh * g.kw), ki = (r / g.kw) % g.kh, kj = r % g.kw;
    const T* xp = xn + c * g.h_in * g.w_in;
    T* row = col + (r - r0) * pb;
    const ColRange cr = valid_cols(g, wo, kj);
    for (int64_t oh = band.oh0; oh < band.oh1; ++oh) {
      T* out = row + (oh - band.oh0) * wo;
      const int64_t ih = oh * g.sh - g.ph + ki;
      if (ih < 0 || ih >= g.h_in) {
        std::fill(out, out + wo, T{0});
        continue;
      }
      const int64_t base = ih * g.w_in - g.pw + kj;  // xp[base + ow*sw] lies under column ow
      std::fill(out, out + cr.lo, T{0});
      if (g.sw == 1) {
        std::copy(xp + base + cr.lo, xp + base + cr.hi, out + cr.lo);
      } else {
        for (int64_t ow = cr.lo; ow < cr.hi; ++ow) out[ow] = xp[base + ow * g.sw];
      }
      std::fill(out + cr.hi, out + wo, T{0});
    }
  }
}

template <typename T>
void im2col_band(const ConvGeom& g, const Plan& pl, const T* xn, Band band, T* col) {
  im2col_rows(g, pl, xn, band, 0, pl.k, col);
}

// Adds a band's column matrix back onto the sample's input gradient, in a fixed order.
template <typename T>
void col2im_band_add(const ConvGeom& g, const Plan& pl, const T* col, Band band, T* dxn) {
  const int64_t pb = band.cols(pl), wo = pl.wo;
  for (int64_t c = 0; c < g.c_in; ++c) {
    T* xp = dxn + c * g.h_in * g.w_in;
    for (int64_t ki = 0; ki < g.kh; ++ki) {
      for (int64_t kj = 0; kj < g.kw; ++kj) {
        const T* row = col + ((c * g.kh + ki) * g.kw + kj) * pb;
        const ColRange r = valid_cols(g, wo, kj);
        for (int64_t oh = band.oh0; oh < band.oh1; ++oh) {
          const int64_t ih = oh * g.sh - g.ph + ki;
          if (ih < 0 || ih >= g.h_in) continue;
          const T* in = row + (oh - band.oh0) * wo;
          const int64_t base = ih * g.w_in - g.pw + kj;
          for (int64_t ow = r.lo; ow < r.hi; ++ow) xp[base + ow * g.sw] += in[ow];
        }
      }
    }
  }
}

template <typename T>
std::unique_ptr<T[]> col_buffer(const Plan& pl) {
  if (pl.direct) return nullptr;
  return std::make_unique_for_overwrite<T[]>(static_cast<size_t>(pl.k * pl.band_rows * pl.wo));
}

}  // namespace

template <typename T>
void conv2d_forward(const ConvGeom& g, const T* x, const T* w, T* y) {
  const Plan pl = make_plan(g);
  const ConstMap<T> wm(w, g.c_out, pl.k);
#pragma omp parallel
  {
    const std::unique_ptr<T[]> col = col_buffer<T>(pl);
#pragma omp for schedule(static)
    for (int64_t item = 0; item < g.n * pl.bands; ++item) {
      const int64_t n = item / pl.bands;
      const Band band = band_at(pl, item % pl.bands);
      const int64_t pb = band.cols(pl), off = band.oh0 * pl.wo;
      const T* cp;
      int64_t ld;
      if (pl.direct) {
        cp = x + n * pl.x_stride + off, ld = pl.p;
      } else {
        im2col_band(g, pl, x + n * pl.x_stride, band, col.get());
        cp = col.get(), ld = pb;
      }
      MutTile<T> yt(y + n * pl.y_stride + off, g.c_out, pb, Eigen::OuterStride<>(pl.p));
      yt.noalias() = wm * ConstTile<T>(cp, pl.k, pb, Eigen::OuterStride<>(ld));
    }
  }
}

template <typename T>
void conv2d_backward_data(const ConvGeom& g, const T* dy, const T* w, T* dx) {
  if constexpr (std::is_same_v<T, float>) {
    if (conv_is_grouped(g)) return grouped_conv_backward_data(g, dy, w, dx);
  }
  const Plan pl = make_plan(g);
  const ConstMap<T> wm(w, g.c_out, pl.k);
#pragma omp parallel
  {
    const std::unique_ptr<T[]> col = col_buffer<T>(pl);
#pragma omp for schedule(static)
    for (int64_t n = 0; n < g.n; ++n) {
      if (pl.direct) {
        MutMap<T>(dx + n * pl.x_stride, pl.k, pl.p).noalias() +=
            wm.transpose() * ConstMap<T>(dy + n * pl.y_stride, g.c_out, pl.p);
        continue;
      }
      for (int64_t b = 0; b < pl.bands; ++b) {
        const Band band = band_at(pl, b);
        const int64_t pb = band.cols(pl);
        const ConstTile<T> dyt(dy + n * pl.y_stride + band.oh0 * pl.wo, g.c_out, pb, Eigen::OuterStride<>(pl.p));
        MutMap<T>(col.get(), pl.k, pb).noalias() = wm.transpose() * dyt;
        col2im_band_add(g, pl, col.get(), band, dx + n * pl.x_stride);
      }
    }
  }
}

namespace {

// Work item: one sample, whose partial dW (bands accumulated in order) is held until its group
// is summed into dW.
template <typename T>
void wgrad_by_samples(const ConvGeom& g, const Plan& pl, const T* x, const T* dy, T* dw) {
  const int64_t wsize = g.c_out * pl.k;
  const int64_t group = std::min(kWgradGroup, g.n);
  const auto partials = std::make_unique_for_overwrite<T[]>(static_cast<size_t>(group * wsize));
  for (int64_t n0 = 0; n0 < g.n; n0 += group) {
    const int64_t count = std::min(group, g.n - n0);
#pragma omp parallel
    {
      const std::unique_ptr<T[]> col = col_buffer<T>(pl);
#pragma omp for schedule(static)
      for (int64_t j = 0; j < count; ++j) {
        const int64_t n = n0 + j;
        MutMap<T> part(partials.get() + j * wsize, g.c_out, pl.k);
        for (int64_t b = 0; b < pl.bands; ++b) {
          const Band band = band_at(pl, b);
          const int64_t pb = band.cols(pl), off = band.oh0 * pl.wo;
          const T* cp;
          int64_t ld;
          if (pl.direct) {
            cp = x + n * pl.x_stride + off, ld = pl.p;
          } else {
            im2col_band(g, pl, x + n * pl.x_stride, band, col.get());
            cp = col.get(), ld = pb;
          }
          const ConstTile<T> dyt(dy + n * pl.y_stride + off, g.c_out, pb, Eigen::OuterStride<>(pl.p));
          const ConstTile<T> colt(cp, pl.k, pb, Eigen::OuterStride<>(ld));
          if (b == 0) {
            part.noalias() = dyt * colt.transpose();
          } else {
            part.noalias() += dyt * colt.transpose();
          }
        }
      }
      // Each element of dW gets its group's partials summed in sample order, then added.
#pragma omp for schedule(static)
      for (int64_t e0 = 0; e0 < wsize; e0 += kSumChunk) {
        const int64_t len = std::min(kSumChunk, wsize - e0);
        T sum[kSumChunk];
        std::copy(partials.get() + e0, partials.get() + e0 + len, sum);
        for (int64_t j = 1; j < count; ++j) {
          const T* pj = partials.get() + j * wsize + e0;
          for (int64_t e = 0; e < len; ++e) sum[e] += pj[e];
        }
        for (int64_t e = 0; e < len; ++e) dw[e0 + e] += sum[e];
      }
    }
  }
}

// Work item: a slice of dW's columns (rows of the column matrix), every sample and band added
// into it in order. Each item builds only its own rows of the column matrix.
template <typename T>
void wgrad_by_slices(const ConvGeom& g, const Plan& pl, const T* x, const T* dy, T* dw) {
  const int64_t slices = (pl.k + kWgradSliceCols - 1) / kWgradSliceCols;
#pragma omp parallel
  {
    std::unique_ptr<T[]> col;
    if (!pl.direct) {
      col = std::make_unique_for_overwrite<T[]>(static_cast<size_t>(kWgradSliceCols * pl.band_rows * pl.wo));
    }
#pragma omp for schedule(dynamic, 1)
    for (int64_t s = 0; s < slices; ++s) {
      const int64_t k0 = s * kWgradSliceCols, nk = std::min(kWgradSliceCols, pl.k - k0);
      MutTile<T> dwt(dw + k0, g.c_out, nk, Eigen::OuterStride<>(pl.k));
      for (int64_t n = 0; n < g.n; ++n) {
        for (int64_t b = 0; b < pl.bands; ++b) {
          const Band band = band_at(pl, b);
          const int64_t pb = band.cols(pl), off = band.oh0 * pl.wo;
          const T* cp;
          int64_t ld;
          if (pl.direct) {
            cp = x + n * pl.x_stride + k0 * pl.p + off, ld = pl.p;
          } else {
            im2col_rows(g, pl, x + n * pl.x_stride, band, k0, k0 + nk, col.get());
            cp = col.get(), ld = pb;
          }
          const ConstTile<T> dyt(dy + n * pl.y_stride + off, g.c_out, pb, Eigen::OuterStride<>(pl.p));
          dwt.noalias() += dyt * ConstTile<T>(cp, nk, pb, Eigen::OuterStride<>(ld)).transpose();
        }
      }
    }
  }
}

}  // namespace

template <typename T>
void conv2d_backward_weight(const ConvGeom& g, const T* x, const T* dy, T* dw) {
  if constexpr (std::is_same_v<T, float>) {
    if (conv_is_grouped(g)) return grouped_conv_backward_weight(g, x, dy, dw);
  }
  const Plan pl = make_plan(g);
  if (pl.k >= kWgradSliceMinK) {
    wgrad_by_slices(g, pl, x, dy, dw);
  } else {
    wgrad_by_samples(g, pl, x, dy, dw);
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
