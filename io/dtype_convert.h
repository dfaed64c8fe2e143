#pragma once
// Reading little-endian tensor elements of any DType as one numeric type: the single conversion
// behind the safetensors and npy readers. Callers check that the dtype suits the target first.
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "io/dtype.h"
#include "io/float16.h"

namespace thaw {

template <typename T>
T load_le(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

// F64 -> float rounds; integers wider than Out's mantissa round when Out is a float type.
template <typename Out>
std::vector<Out> convert_elements(DType dtype, std::span<const uint8_t> bytes) {
  const size_t n = bytes.size() / dtype_size(dtype);
  const uint8_t* p = bytes.data();
  std::vector<Out> out(n);
  for (size_t i = 0; i < n; ++i) {
    switch (dtype) {
      case DType::F32: out[i] = static_cast<Out>(load_le<float>(p + 4 * i)); break;
      case DType::F64: out[i] = static_cast<Out>(load_le<double>(p + 8 * i)); break;
      case DType::F16: out[i] = static_cast<Out>(half_to_float(load_le<uint16_t>(p + 2 * i))); break;
      case DType::BF16: out[i] = static_cast<Out>(bf16_to_float(load_le<uint16_t>(p + 2 * i))); break;
      case DType::I32: out[i] = static_cast<Out>(load_le<int32_t>(p + 4 * i)); break;
      case DType::I64: out[i] = static_cast<Out>(load_le<int64_t>(p + 8 * i)); break;
      case DType::U8: out[i] = static_cast<Out>(p[i]); break;
    }
  }
  return out;
}

}  // namespace thaw
