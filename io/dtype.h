#pragma once
// Element types of the tensors thaw reads and writes (safetensors, .npy). Names follow the
// safetensors spelling; the .npy descr strings map onto the same set.
#include <cstddef>
#include <optional>
#include <string_view>

namespace thaw {

enum class DType { F32, F64, F16, BF16, I64, I32, U8 };

std::string_view dtype_name(DType t);                       // "F32", "BF16", ...
size_t dtype_size(DType t);                                 // bytes per element
std::optional<DType> dtype_from_name(std::string_view name);  // inverse of dtype_name
bool dtype_is_float(DType t);                               // F32, F64, F16, BF16

}  // namespace thaw
