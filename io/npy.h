#pragma once
// NumPy .npy files, format versions 1.0, 2.0 and 3.0: the magic "\x93NUMPY", a version, a header
// length, and a Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// followed by the raw data. Little-endian '<f4', '<f8', '<f2', '<i4', '<i8' and '|u1' in C order
// are supported; anything else (big-endian, Fortran order, object arrays) is a UserError naming
// the file and what was expected.
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "io/dtype.h"

namespace thaw {

struct NpyArray {
  std::string origin;          // the file it came from, for error messages
  DType dtype;
  Shape shape;                 // [] for a 0-d array
  std::vector<uint8_t> bytes;  // little-endian, C order

  int64_t numel() const { return shape_numel(shape); }
  std::vector<float> to_float() const;    // any supported dtype, converted
  std::vector<double> to_double() const;  // any supported dtype, converted
  std::vector<int64_t> to_int64() const;  // integer dtypes only; a float array is a UserError
};

NpyArray read_npy(const std::filesystem::path& path);
// Parses bytes already in memory; `origin` names them in error messages.
NpyArray parse_npy(const std::string& bytes, const std::string& origin);

// The complete file for `data` (numel(shape) * dtype_size(dtype) bytes) in C order: version 1.0,
// or 2.0 when the header does not fit 1.0's 16-bit length.
std::string serialize_npy(DType dtype, const Shape& shape, const void* data);
void write_npy(const std::filesystem::path& path, DType dtype, const Shape& shape, const void* data);
void write_npy(const std::filesystem::path& path, const Shape& shape, std::span<const float> data);
inline void write_npy(const std::filesystem::path& path, const Tensor<float>& t) { write_npy(path, t.shape(), t.span()); }

}  // namespace thaw
