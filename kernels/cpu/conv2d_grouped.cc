#include "kernels/cpu/conv2d_grouped.h"

#include <algorithm>
#include <vector>

#include "kernels/cpu/gemm.h"

namespace thaw::cpu {

namespace {

// Work item sizes: big enough that each product's packing is small beside its arithmetic, small
// enough that a batch of 32 gives both cores work. They never change the bits.
constexpr int64_t kTargetColumns = 128;  // samples side by side until a product has about this many columns
constexpr int64_t kInputBlock = 64;      // input channels per data-gradient item
constexpr int64_t kWgradRows = 128;      // rows of dW per weight-gradient item
constexpr int64_t kWgradCols = 384;      // columns of dW (rows of the column matrix) per item

struct Layout {
  int64_t k, p, ho, wo, x_stride, y_stride, group, groups;
  bool direct;  // 1x1, stride 1, unpadded: the input already is the column matrix
};

Layout layout_of(const ConvGeom& g) {
  Layout l{};
  l.k = g.c_in * g.kh * g.kw;
  l.ho = g.h_out(), l.wo = g.w_out(), l.p = l.ho * l.wo;
  l.x_stride = g.c_in * g.h_in * g.w_in, l.y_stride = g.c_out * l.p;
  l.group = std::min(g.n, std::max<int64_t>(1, (kTargetColumns + l.p - 1) / l.p));
  l.groups = (g.n + l.group - 1) / l.group;
  l.direct = g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.ph == 0 && g.pw == 0;
  return l;
}

int64_t blocks(int64_t total, int64_t block) { return (total + block - 1) / block; }

// Rows [r0, r1) of the column matrix of samples [0, count) (x: the first one), row r = (c, ki, kj),
// sample s in columns [s p, (s + 1) p); row stride ld.
void im2col_samples(const ConvGeom& g, const Layout& l, const float* x, int64_t count, int64_t r0, int64_t r1,
                    float* col, int64_t ld) {
  for (int64_t s = 0; s < count; ++s) {
    const float* xs = x + s * l.x_stride;
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t c = r / (g.kh * g.kw), ki = (r / g.kw) % g.kh, kj = r % g.kw;
      const float* plane = xs + c * g.h_in * g.w_in;
      float* out = col + (r - r0) * ld + s * l.p;
      for (int64_t oh = 0; oh < l.ho; ++oh) {
        const int64_t ih = oh * g.sh - g.ph + ki;
        for (int64_t ow = 0; ow < l.wo; ++ow) {
          const int64_t iw = ow * g.sw - g.pw + kj;
          const bool inside = ih >= 0 && ih < g.h_in && iw >= 0 && iw < g.w_in;
          out[oh * l.wo + ow] = inside ? plane[ih * g.w_in + iw] : 0.0f;
        }
      }
    }
  }
}

// Adds channels [c0, c1) of the column matrix of samples [0, count) back onto their input
// gradients (dx: the first sample's), in the order (c, ki, kj, oh, ow) of the per-sample path.
void col2im_samples(const ConvGeom& g, const Layout& l, const float* col, int64_t ld, int64_t count, int64_t c0,
                    int64_t c1, float* dx) {
  for (int64_t s = 0; s < count; ++s) {
    float* dxs = dx + s * l.x_stride;
    for (int64_t c = c0; c < c1; ++c) {
      float* plane = dxs + c * g.h_in * g.w_in;
      for (int64_t ki = 0; ki < g.kh; ++ki) {
        for (int64_t kj = 0; kj < g.kw; ++kj) {
          const float* row = col + ((c - c0) * g.kh * g.kw + ki * g.kw + kj) * ld + s * l.p;
          for (int64_t oh = 0; oh < l.ho; ++oh) {
            const int64_t ih = oh * g.sh - g.ph + ki;
            if (ih < 0 || ih >= g.h_in) continue;
            for (int64_t ow = 0; ow < l.wo; ++ow) {
              const int64_t iw = ow * g.sw - g.pw + kj;
              if (iw >= 0 && iw < g.w_in) plane[ih * g.w_in + iw] += row[oh * l.wo + ow];
            }
          }
        }
      }
    }
  }
}

// Samples side by side: column j of a group is sample j / p, position j % p.
Dim samples_side_by_side(const Layout& l, int64_t sample_stride) { return {1, l.p, sample_stride}; }

}  // namespace

void grouped_conv_backward_data(const ConvGeom& g, const float* dy, const float* w, float* dx) {
  const Layout l = layout_of(g);
  const int64_t taps = g.kh * g.kw;
  const int64_t iblocks = blocks(g.c_in, kInputBlock);
#pragma omp parallel
  {
    std::vector<float> col;
#pragma omp for schedule(static)
    for (int64_t item = 0; item < l.groups * iblocks; ++item) {
      const int64_t n0 = item / iblocks * l.group, count = std::min(l.group, g.n - n0);
      const int64_t c0 = item % iblocks * kInputBlock, c1 = std::min(g.c_in, c0 + kInputBlock);
      const int64_t r0 = c0 * taps, rows = (c1 - c0) * taps, cols = count * l.p;
      // dcol = W^T dY: rows [r0, r0 + rows) of W's transpose.
      const MatView wt{w + r0, {1, 0, 0}, {l.k, 0, 0}};
      const MatView d{dy + n0 * l.y_stride, {l.p, 0, 0}, samples_side_by_side(l, l.y_stride)};
      if (l.direct) {
        const MutView c{dx + n0 * l.x_stride + r0 * l.p, {l.p, 0, 0}, samples_side_by_side(l, l.x_stride)};
        gemm(rows, cols, g.c_out, wt, d, c, true);
        continue;
      }
      col.resize(static_cast<size_t>(rows * cols));
      gemm(rows, cols, g.c_out, wt, d, out_rows(col.data(), cols), false);
      col2im_samples(g, l, col.data(), cols, count, c0, c1, dx + n0 * l.x_stride);
    }
  }
}

void grouped_conv_backward_weight(const ConvGeom& g, const float* x, const float* dy, float* dw) {
  const Layout l = layout_of(g);
  const int64_t rblocks = blocks(g.c_out, kWgradRows), kblocks = blocks(l.k, kWgradCols);
  const int64_t inner = g.n * l.p;  // every sample's positions, in sample order: one chain per element
#pragma omp parallel
  {
    std::vector<float> col;
#pragma omp for schedule(static)
    for (int64_t item = 0; item < rblocks * kblocks; ++item) {
      const int64_t o0 = item / kblocks * kWgradRows, oc = std::min(kWgradRows, g.c_out - o0);
      const int64_t k0 = item % kblocks * kWgradCols, nk = std::min(kWgradCols, l.k - k0);
      const MatView d{dy + o0 * l.p, {l.p, 0, 0}, samples_side_by_side(l, l.y_stride)};
      MatView colt;
      if (l.direct) {
        colt = {x + k0 * l.p, samples_side_by_side(l, l.x_stride), {l.p, 0, 0}};
      } else {
        col.resize(static_cast<size_t>(nk * inner));
        im2col_samples(g, l, x, g.n, k0, k0 + nk, col.data(), inner);
        colt = transposed(col.data(), inner);
      }
      gemm(oc, nk, inner, d, colt, {dw + o0 * l.k + k0, {l.k, 0, 0}, {1, 0, 0}}, true);
    }
  }
}

}  // namespace thaw::cpu
