#include "io/resize.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"


namespace thaw {
namespace {

// Where each output index samples along one axis: two source indices and their weights.
struct AxisTaps {
  std::vector<int64_t> lo, hi;
  std::vector<float> w_lo, w_hi;
};

// As PyTorch's CPU kernel: the scale is a float, the source coordinate is computed in double
// (so that, e.g., 28 -> 13 hits 13.5 exactly), and the weights are stored as float.
AxisTaps axis_taps(int64_t in, int64_t out) {
  AxisTaps t;
  t.lo.resize(out);
  t.hi.resize(out);
  t.w_lo.resize(out);
  t.w_hi.resize(out);
  const double scale = static_cast<float>(in) / static_cast<float>(out);
  for (int64_t d = 0; d < out; ++d) {
    const double real = std::max(scale * (static_cast<double>(d) + 0.5) - 0.5, 0.0);
    const int64_t lo = std::min(static_cast<int64_t>(real), in - 1);
    t.lo[d] = lo;
    t.hi[d] = lo < in - 1 ? lo + 1 : lo;
    t.w_hi[d] = static_cast<float>(real - static_cast<double>(lo));
    t.w_lo[d] = 1.0f - t.w_hi[d];
  }
  return t;
}

void check_sizes(int64_t channels, int64_t src_h, int64_t src_w, int64_t dst_h, int64_t dst_w) {
  THAW_CHECK(channels > 0 && src_h > 0 && src_w > 0 && dst_h > 0 && dst_w > 0, "resize_bilinear: bad sizes c=", channels,
             " src ", src_h, "x", src_w, " dst ", dst_h, "x", dst_w);
}

template <typename Src, typename Store>
void resize_planes(const Src* src, int64_t channels, int64_t src_h, int64_t src_w, int64_t dst_h, int64_t dst_w,
                   Store store) {
  check_sizes(channels, src_h, src_w, dst_h, dst_w);
  const AxisTaps ty = axis_taps(src_h, dst_h);
  const AxisTaps tx = axis_taps(src_w, dst_w);
  for (int64_t c = 0; c < channels; ++c) {
    const Src* plane = src + c * src_h * src_w;
    for (int64_t y = 0; y < dst_h; ++y) {
      const Src* r0 = plane + ty.lo[y] * src_w;
      const Src* r1 = plane + ty.hi[y] * src_w;
      for (int64_t x = 0; x < dst_w; ++x) {
        const int64_t x0 = tx.lo[x], x1 = tx.hi[x];
        const float top = tx.w_lo[x] * static_cast<float>(r0[x0]) + tx.w_hi[x] * static_cast<float>(r0[x1]);
        const float bottom = tx.w_lo[x] * static_cast<float>(r1[x0]) + tx.w_hi[x] * static_cast<float>(r1[x1]);
        store((c * dst_h + y) * dst_w + x, ty.w_lo[y] * top + ty.w_hi[y] * bottom);
      }
    }
  }
}

}  // namespace

void resize_bilinear(const float* src, int64_t channels, int64_t src_h, int64_t src_w, float* dst, int64_t dst_h,
                     int64_t dst_w) {
  resize_planes(src, channels, src_h, src_w, dst_h, dst_w, [dst](int64_t i, float v) { dst[i] = v; });
}

void resize_bilinear(const uint8_t* src, int64_t channels, int64_t src_h, int64_t src_w, float* dst, int64_t dst_h,
                     int64_t dst_w) {
  resize_planes(src, channels, src_h, src_w, dst_h, dst_w, [dst](int64_t i, float v) { dst[i] = v; });
}

void resize_bilinear(const uint8_t* src, int64_t channels, int64_t src_h, int64_t src_w, uint8_t* dst, int64_t dst_h,
                     int64_t dst_w) {
  resize_planes(src, channels, src_h, src_w, dst_h, dst_w, [dst](int64_t i, float v) {
    dst[i] = static_cast<uint8_t>(std::clamp(std::round(v), 0.0f, 255.0f));
  });
}

void grey_to_normalised_chw(const uint8_t* grey, int64_t h, int64_t w, int64_t size, float* chw) {
  THAW_CHECK(h > 0 && w > 0 && size > 0, "grey_to_normalised_chw: bad sizes ", h, "x", w, " -> ", size);
  std::vector<float> unit(static_cast<size_t>(h * w));
  for (size_t i = 0; i < unit.size(); ++i) unit[i] = static_cast<float>(grey[i]) / 255.0f;
  const int64_t plane = size * size;
  resize_bilinear(unit.data(), 1, h, w, chw, size, size);
  for (int64_t i = 0; i < plane; ++i) chw[i] = (chw[i] - 0.5f) / 0.5f;
  std::copy(chw, chw + plane, chw + plane);
  std::copy(chw, chw + plane, chw + 2 * plane);
}

Tensor<float> idx_batch_to_nchw(const IdxImages& images, std::span<const int64_t> indices, int64_t size) {
  const int64_t n = static_cast<int64_t>(indices.size());
  Tensor<float> out({n, 3, size, size});
  for (int64_t k = 0; k < n; ++k) {
    const int64_t i = indices[k];
    if (i < 0 || i >= images.count) fail_internal("idx_batch_to_nchw: image ", i, " of ", images.count);
    grey_to_normalised_chw(images.image(i), images.rows, images.cols, size, out.data() + k * 3 * size * size);
  }
  return out;
}

}  // namespace thaw
