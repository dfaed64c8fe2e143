#pragma once
// Shapes of each op, shared by the CPU reference and the CUDA twin so that one description drives
// the op, its gradient check, its parity test and its benchmark.
#include <cstdint>

namespace thaw {

struct ConvGeom {
  int64_t n = 1, c_in = 1, h_in = 1, w_in = 1;
  int64_t c_out = 1, kh = 1, kw = 1;
  int64_t sh = 1, sw = 1, ph = 0, pw = 0;
  int64_t h_out() const { return (h_in + 2 * ph - kh) / sh + 1; }
  int64_t w_out() const { return (w_in + 2 * pw - kw) / sw + 1; }
  int64_t x_size() const { return n * c_in * h_in * w_in; }
  int64_t w_size() const { return c_out * c_in * kh * kw; }
  int64_t y_size() const { return n * c_out * h_out() * w_out(); }
  int64_t macs() const { return n * c_out * h_out() * w_out() * c_in * kh * kw; }
};

// Batch norm over an NCHW tensor: statistics per channel over n * hw values.
struct BnGeom {
  int64_t n = 1, c = 1, hw = 1;
  double eps = 1e-3;
  double momentum = 0.1;  // PyTorch convention: running = (1 - m) * running + m * batch
  int64_t size() const { return n * c * hw; }
};

// Max and average pooling, square window. count_pad: whether average pooling divides by the
// padded cells too (PyTorch's count_include_pad=True: timm's and torchvision's inception_v3) or only
// by the cells inside the input (TF's SAME padding, Keras; timm's inception_v4).
struct PoolGeom {
  int64_t n = 1, c = 1, h_in = 1, w_in = 1;
  int64_t k = 3, stride = 1, pad = 0;
  bool count_pad = false;
  int64_t h_out() const { return (h_in + 2 * pad - k) / stride + 1; }
  int64_t w_out() const { return (w_in + 2 * pad - k) / stride + 1; }
  int64_t x_size() const { return n * c * h_in * w_in; }
  int64_t y_size() const { return n * c * h_out() * w_out(); }
};

struct LinearGeom {
  int64_t n = 1, in = 1, out = 1;
};

}  // namespace thaw
