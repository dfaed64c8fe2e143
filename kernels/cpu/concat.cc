#include "kernels/cpu/concat.h"

#include <algorithm>

namespace thaw::cpu {

template <typename T>
void concat_forward(int64_t n, int64_t hw, const std::vector<ChannelSlice<const T>>& inputs, T* y) {
  int64_t c_total = 0;
  for (const auto& in : inputs) c_total += in.c;
#pragma omp parallel for schedule(static)
  for (int64_t s = 0; s < n; ++s) {
    T* out = y + s * c_total * hw;
    for (const auto& in : inputs) {
      if (in.ptr == nullptr) {
        out += in.c * hw;
        continue;
      }
      const T* src = in.ptr + s * in.c * hw;
      out = std::copy(src, src + in.c * hw, out);
    }
  }
}

template <typename T>
void concat_backward(int64_t n, int64_t hw, const T* dy, const std::vector<ChannelSlice<T>>& dinputs) {
  int64_t c_total = 0;
  for (const auto& d : dinputs) c_total += d.c;
#pragma omp parallel for schedule(static)
  for (int64_t s = 0; s < n; ++s) {
    const T* src = dy + s * c_total * hw;
    for (const auto& d : dinputs) {
      const int64_t len = d.c * hw;
      if (d.ptr) {
        T* dst = d.ptr + s * len;
        for (int64_t i = 0; i < len; ++i) dst[i] += src[i];
      }
      src += len;
    }
  }
}

template void concat_forward<float>(int64_t, int64_t, const std::vector<ChannelSlice<const float>>&, float*);
template void concat_forward<double>(int64_t, int64_t, const std::vector<ChannelSlice<const double>>&, double*);
template void concat_backward<float>(int64_t, int64_t, const float*, const std::vector<ChannelSlice<float>>&);
template void concat_backward<double>(int64_t, int64_t, const double*, const std::vector<ChannelSlice<double>>&);

}  // namespace thaw::cpu
