#pragma once
// The safetensors format: an 8-byte little-endian header length N, N bytes of JSON mapping each
// tensor name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets relative to the data
// section) plus an optional "__metadata__" map of strings, then the raw little-endian data.
// Names are kept exactly as written (timm's state_dict keys), in the order of the file's header.
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/tensor.h"
#include "io/dtype.h"

namespace thaw {

struct SafeTensorInfo {
  DType dtype;
  Shape shape;  // [] for a scalar (e.g. timm's *.num_batches_tracked, I64)
  std::span<const uint8_t> bytes;  // points into the owning SafeTensorsFile
};

// The largest header read (the format's reference implementation refuses more than 100 MB).
inline constexpr uint64_t kMaxHeaderBytes = 100'000'000;

// A whole safetensors file in memory, validated on load: every problem (short file, header length
// past the end, bad JSON, unknown dtype, offsets out of range, overlapping, leaving holes, or not
// matching dtype x shape) is a UserError with one line naming the file.
class SafeTensorsFile {
 public:
  static SafeTensorsFile read(const std::filesystem::path& path);
  // Parses bytes already in memory; `origin` names them in error messages.
  static SafeTensorsFile parse(std::string bytes, const std::string& origin);

  const std::string& origin() const { return origin_; }
  bool has(std::string_view name) const;
  const std::vector<std::string>& names() const { return names_; }  // header order
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // The tensor's entry; a missing name is a UserError naming the file and the tensor.
  const SafeTensorInfo& info(std::string_view name) const;

  // Values converted from any float dtype (F32, F64, F16, BF16); an integer tensor is a UserError.
  std::vector<float> to_float(std::string_view name) const;
  std::vector<double> to_double(std::string_view name) const;
  // Values of an integer tensor (I64, I32, U8); a float tensor is a UserError.
  std::vector<int64_t> to_int64(std::string_view name) const;
  // As to_float, with the shape; when `expected` is given, a different shape is a UserError
  // ("w.safetensors: tensor fc.weight has shape [10, 1536], expected [1000, 1536]").
  Tensor<float> tensor_float(std::string_view name) const;
  Tensor<float> tensor_float(std::string_view name, const Shape& expected) const;
  Tensor<double> tensor_double(std::string_view name) const;
  Tensor<double> tensor_double(std::string_view name, const Shape& expected) const;

 private:
  SafeTensorsFile() = default;
  const SafeTensorInfo& float_info(std::string_view name) const;

  std::string origin_;
  // The whole file; every info's span points into it, and the heap block stays put when the
  // object moves (copying is disabled by the unique_ptr).
  std::unique_ptr<const std::string> bytes_;
  std::vector<std::string> names_;
  std::map<std::string, SafeTensorInfo, std::less<>> tensors_;
  std::map<std::string, std::string> metadata_;
};

// Collects tensors (copied on add) and writes them in insertion order, header and data alike,
// through write_file_atomic. A duplicate name or a byte count that does not match dtype x shape
// is an InternalError: both are the caller's bugs, not the user's.
class SafeTensorsWriter {
 public:
  void add(std::string name, DType dtype, Shape shape, const void* data);
  void add(std::string name, const Tensor<float>& t) { add(std::move(name), DType::F32, t.shape(), t.data()); }
  void add(std::string name, const Tensor<double>& t) { add(std::move(name), DType::F64, t.shape(), t.data()); }
  void add_int64_scalar(std::string name, int64_t value) { add(std::move(name), DType::I64, {}, &value); }
  void set_metadata(std::string key, std::string value) { metadata_[std::move(key)] = std::move(value); }

  size_t size() const { return entries_.size(); }
  std::string serialize() const;  // the complete file
  void write(const std::filesystem::path& path) const;

 private:
  struct Entry {
    std::string name;
    DType dtype;
    Shape shape;
    std::vector<uint8_t> bytes;
  };
  std::string header() const;  // JSON plus padding, without the length prefix

  std::vector<Entry> entries_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace thaw
