#include "kernels/cpu/pool.h"

#include <algorithm>
#include <type_traits>
#include <vector>

#include "core/error.h"
#include "kernels/cpu/fixed_sum.h"
#include "kernels/cpu/maxpool_simd.h"

namespace thaw::cpu {

namespace {

// The window of output (oh, ow) clipped to the input: rows [h0, h1), columns [w0, w1).
struct Window {
  int64_t h0, h1, w0, w1;
  int64_t count() const { return (h1 - h0) * (w1 - w0); }
};

Window window_at(const PoolGeom& g, int64_t oh, int64_t ow) {
  const int64_t hs = oh * g.stride - g.pad, ws = ow * g.stride - g.pad;
  return {std::max<int64_t>(hs, 0), std::min(hs + g.k, g.h_in), std::max<int64_t>(ws, 0),
          std::min(ws + g.k, g.w_in)};
}

// PyTorch's own limit; it also guarantees every window holds at least one input cell.
void check_geometry(const PoolGeom& g) {
  THAW_CHECK(g.k >= 1 && g.stride >= 1 && g.pad >= 0 && 2 * g.pad <= g.k,
             "pool window ", g.k, " stride ", g.stride, " pad ", g.pad, " is not supported");
  THAW_CHECK(g.h_out() >= 1 && g.w_out() >= 1, "pool output would be empty for input ", g.h_in, "x", g.w_in);
}

// f(i) for every i in [0, n) outside [lo, hi), in order: the positions a vector pass left to the
// general loop.
template <typename F>
void for_each_outside(int64_t n, int64_t lo, int64_t hi, const F& f) {
  for (int64_t i = 0; i < std::min(lo, n); ++i) f(i);
  for (int64_t i = std::max(lo, hi); i < n; ++i) f(i);
}

}  // namespace

template <typename T>
void maxpool_forward(const PoolGeom& g, const T* x, T* y, int32_t* argmax) {
  check_geometry(g);
  const int64_t ho = g.h_out(), wo = g.w_out(), in_plane = g.h_in * g.w_in, out_plane = ho * wo;
#pragma omp parallel for schedule(static)
  for (int64_t plane = 0; plane < g.n * g.c; ++plane) {
    const T* xp = x + plane * in_plane;
    for (int64_t oh = 0; oh < ho; ++oh) {
      // Windows wholly inside the input's rows, from the first whose columns start inside: eight at
      // a time where the vector kernel takes them, the rest below.
      int64_t fast_from = 0, fast_done = 0;
      if constexpr (std::is_same_v<T, float>) {
        const int64_t h_first = oh * g.stride - g.pad;
        if (h_first >= 0 && h_first + g.k <= g.h_in) {
          fast_from = (g.pad + g.stride - 1) / g.stride;
          const int64_t o = plane * out_plane + oh * wo + fast_from;
          fast_done = maxpool_row_simd(g, xp, oh, fast_from, wo - fast_from, y + o, argmax + o);
        }
      }
      for_each_outside(wo, fast_from, fast_from + fast_done, [&](int64_t ow) {
        const Window win = window_at(g, oh, ow);
        int64_t best = win.h0 * g.w_in + win.w0;
        for (int64_t h = win.h0; h < win.h1; ++h) {
          for (int64_t w = win.w0; w < win.w1; ++w) {
            // Strictly greater: on a tie the first cell in window order keeps the gradient.
            if (xp[h * g.w_in + w] > xp[best]) best = h * g.w_in + w;
          }
        }
        const int64_t o = plane * out_plane + oh * wo + ow;
        y[o] = xp[best];
        argmax[o] = static_cast<int32_t>(best);
      });
    }
  }
}

template <typename T>
void maxpool_backward(const PoolGeom& g, const T* dy, const int32_t* argmax, T* dx) {
  const int64_t in_plane = g.h_in * g.w_in, out_plane = g.h_out() * g.w_out();
  // Overlapping windows may route several outputs to one input: within a plane they are added
  // in output order, and planes are independent.
#pragma omp parallel for schedule(static)
  for (int64_t plane = 0; plane < g.n * g.c; ++plane) {
    T* dxp = dx + plane * in_plane;
    const int64_t o0 = plane * out_plane;
    for (int64_t o = o0; o < o0 + out_plane; ++o) dxp[argmax[o]] += dy[o];
  }
}

// Average pooling is separable: a window's sum is the sum over its rows of each row's sum over its
// columns, and its cell count the product of the clipped row and column counts. The order of every
// sum is fixed (columns by kj, then rows by ki) whichever pass computes it. Sums are taken in double.

// The divisor's extent along one axis for the window starting at cell s (which may be negative):
// the cells inside the input, or with count_pad those inside the padded input as PyTorch counts
// them. Exact small integers in double, so rows * columns is the exact divisor.
double axis_cells(const PoolGeom& g, int64_t s, int64_t in_len) {
  if (g.count_pad) return static_cast<double>(std::min(s + g.k, in_len + g.pad) - s);
  return static_cast<double>(std::min(s + g.k, in_len) - std::max<int64_t>(s, 0));
}

std::vector<double> column_counts(const PoolGeom& g) {
  std::vector<double> counts(static_cast<size_t>(g.w_out()));
  for (int64_t ow = 0; ow < g.w_out(); ++ow) counts[ow] = axis_cells(g, ow * g.stride - g.pad, g.w_in);
  return counts;
}

// Row h's window sums along w: rs[ow] = the taps of output column ow inside the row, added in kj
// order from zero. The 3-wide stride-1 windows of the Inception pools take one pass over the row
// where all three taps are inside; the edges and other geometries add tap by tap, the same sums.
template <typename T>
void row_window_sums(const PoolGeom& g, const T* xrow, int64_t wo, double* rs) {
  int64_t lo = 0, hi = 0;  // columns summed in the single pass
  if (g.stride == 1 && g.k == 3) {
    lo = std::min(g.pad, wo), hi = std::clamp(g.w_in - 2 + g.pad, lo, wo);
    for (int64_t ow = lo; ow < hi; ++ow) {
      const T* t = xrow + (ow - g.pad);
      rs[ow] = ((0.0 + static_cast<double>(t[0])) + static_cast<double>(t[1])) + static_cast<double>(t[2]);
    }
  }
  for_each_outside(wo, lo, hi, [&](int64_t ow) {
    double sum = 0.0;
    for (int64_t kj = 0; kj < g.k; ++kj) {
      const int64_t iw = ow * g.stride - g.pad + kj;
      if (iw >= 0 && iw < g.w_in) sum += static_cast<double>(xrow[iw]);
    }
    rs[ow] = sum;
  });
}

template <typename T>
void avgpool_forward(const PoolGeom& g, const T* x, T* y) {
  check_geometry(g);
  const int64_t ho = g.h_out(), wo = g.w_out(), in_plane = g.h_in * g.w_in, out_plane = ho * wo;
  const std::vector<double> col_count = column_counts(g);
#pragma omp parallel
  {
    std::vector<double> row_sums(static_cast<size_t>(g.h_in * wo));
#pragma omp for schedule(static)
    for (int64_t plane = 0; plane < g.n * g.c; ++plane) {
      const T* xp = x + plane * in_plane;
      for (int64_t h = 0; h < g.h_in; ++h) row_window_sums(g, xp + h * g.w_in, wo, row_sums.data() + h * wo);
      for (int64_t oh = 0; oh < ho; ++oh) {
        // The window's rows added in order from zero, then one division by the exact cell count.
        const int64_t h0 = std::max<int64_t>(oh * g.stride - g.pad, 0);
        const int64_t h1 = std::min(oh * g.stride - g.pad + g.k, g.h_in);
        const double rows = axis_cells(g, oh * g.stride - g.pad, g.h_in);
        const double* r0 = row_sums.data() + h0 * wo;
        T* yr = y + plane * out_plane + oh * wo;
        if (h1 - h0 == 3) {
          const double *r1 = r0 + wo, *r2 = r1 + wo;
          for (int64_t ow = 0; ow < wo; ++ow) {
            yr[ow] = static_cast<T>((((0.0 + r0[ow]) + r1[ow]) + r2[ow]) / (rows * col_count[ow]));
          }
          continue;
        }
        for (int64_t ow = 0; ow < wo; ++ow) {
          double acc = 0.0;
          for (int64_t h = h0; h < h1; ++h) acc += row_sums[h * wo + ow];
          yr[ow] = static_cast<T>(acc / (rows * col_count[ow]));
        }
      }
    }
  }
}

// Adds row h's gradient shares cs (per output column) onto dx's row: each input cell takes its
// windows' shares in kj order, each rounded to T first. The 3-wide stride-1 windows add all three
// in one pass in the interior; the edges and other geometries tap by tap, in the same order.
template <typename T>
void scatter_row(const PoolGeom& g, const double* cs, int64_t wo, T* dxrow) {
  int64_t lo = 0, hi = 0;  // input columns done in the single pass
  if (g.stride == 1 && g.k == 3) {
    lo = std::clamp<int64_t>(2 - g.pad, 0, g.w_in), hi = std::clamp(wo - g.pad, lo, g.w_in);
    for (int64_t iw = lo; iw < hi; ++iw) {
      const double* c = cs + (iw + g.pad - 2);
      dxrow[iw] = ((dxrow[iw] + static_cast<T>(c[2])) + static_cast<T>(c[1])) + static_cast<T>(c[0]);
    }
  }
  for_each_outside(g.w_in, lo, hi, [&](int64_t iw) {
    T v = dxrow[iw];
    for (int64_t kj = 0; kj < g.k; ++kj) {
      const int64_t at = iw + g.pad - kj;  // ow * stride
      if (at >= 0 && at % g.stride == 0 && at / g.stride < wo) v += static_cast<T>(cs[at / g.stride]);
    }
    dxrow[iw] = v;
  });
}

template <typename T>
void avgpool_backward(const PoolGeom& g, const T* dy, T* dx) {
  check_geometry(g);
  const int64_t ho = g.h_out(), wo = g.w_out(), in_plane = g.h_in * g.w_in, out_plane = ho * wo;
  const std::vector<double> col_count = column_counts(g);
#pragma omp parallel
  {
    std::vector<double> share(static_cast<size_t>(out_plane)), cs(static_cast<size_t>(wo));
#pragma omp for schedule(static)
    for (int64_t plane = 0; plane < g.n * g.c; ++plane) {
      // Each output's gradient divided by its cell count.
      for (int64_t oh = 0; oh < ho; ++oh) {
        const T* dyr = dy + plane * out_plane + oh * wo;
        const double rows = axis_cells(g, oh * g.stride - g.pad, g.h_in);
        double* sr = share.data() + oh * wo;
        for (int64_t ow = 0; ow < wo; ++ow) sr[ow] = static_cast<double>(dyr[ow]) / (rows * col_count[ow]);
      }
      T* dxp = dx + plane * in_plane;
      for (int64_t h = 0; h < g.h_in; ++h) {
        // cs[ow]: the shares of the output rows whose windows cover input row h, added in row order
        // from zero.
        const int64_t from = h + g.pad - g.k + 1;  // oh * stride >= from
        const int64_t oh0 = from <= 0 ? 0 : (from + g.stride - 1) / g.stride;
        const int64_t oh1 = std::min(ho, (h + g.pad) / g.stride + 1);
        if (oh1 - oh0 == 3) {
          const double *s0 = share.data() + oh0 * wo, *s1 = s0 + wo, *s2 = s1 + wo;
          for (int64_t ow = 0; ow < wo; ++ow) cs[ow] = ((0.0 + s0[ow]) + s1[ow]) + s2[ow];
        } else {
          for (int64_t ow = 0; ow < wo; ++ow) {
            double sum = 0.0;
            for (int64_t oh = oh0; oh < oh1; ++oh) sum += share[oh * wo + ow];
            cs[ow] = sum;
          }
        }
        scatter_row(g, cs.data(), wo, dxp + h * g.w_in);
      }
    }
  }
}

template <typename T>
void global_avgpool_forward(int64_t n, int64_t c, int64_t hw, const T* x, T* y) {
#pragma omp parallel for schedule(static)
  for (int64_t plane = 0; plane < n * c; ++plane) {
    const T* xp = x + plane * hw;
    y[plane] = static_cast<T>(fixed_sum(hw, [&](int64_t i) { return static_cast<double>(xp[i]); }) /
                              static_cast<double>(hw));
  }
}

template <typename T>
void global_avgpool_backward(int64_t n, int64_t c, int64_t hw, const T* dy, T* dx) {
#pragma omp parallel for schedule(static)
  for (int64_t plane = 0; plane < n * c; ++plane) {
    const T share = static_cast<T>(static_cast<double>(dy[plane]) / static_cast<double>(hw));
    T* dxp = dx + plane * hw;
    for (int64_t i = 0; i < hw; ++i) dxp[i] += share;
  }
}

#define THAW_INSTANTIATE(T)                                                                   \
  template void maxpool_forward<T>(const PoolGeom&, const T*, T*, int32_t*);                  \
  template void maxpool_backward<T>(const PoolGeom&, const T*, const int32_t*, T*);           \
  template void avgpool_forward<T>(const PoolGeom&, const T*, T*);                            \
  template void avgpool_backward<T>(const PoolGeom&, const T*, T*);                           \
  template void global_avgpool_forward<T>(int64_t, int64_t, int64_t, const T*, T*);          \
  template void global_avgpool_backward<T>(int64_t, int64_t, int64_t, const T*, T*);
THAW_INSTANTIATE(float)
THAW_INSTANTIATE(double)
#undef THAW_INSTANTIATE

}  // namespace thaw::cpu
