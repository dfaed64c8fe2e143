#pragma once
// A test-side .npy reader and writer, deliberately separate from io/: the parity test must not
// judge thaw's output with thaw's own parser. Little-endian float32/float64, C order, versions
// 1 to 3 of the format.
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

namespace thaw::testing {

struct NpyArray {
  std::vector<int64_t> shape;
  std::vector<double> values;  // widened from the file's float32 or float64
};

namespace npy_detail {

inline std::string field_text(const std::string& header, const std::string& key,
                              const std::string& path) {
  const std::string quoted = "'" + key + "'";
  const size_t at = header.find(quoted);
  if (at == std::string::npos) throw std::runtime_error(path + ": .npy header lacks " + quoted);
  const size_t colon = header.find(':', at + quoted.size());
  if (colon == std::string::npos) throw std::runtime_error(path + ": bad .npy header");
  size_t begin = colon + 1;
  while (begin < header.size() && header[begin] == ' ') ++begin;
  if (begin >= header.size()) throw std::runtime_error(path + ": bad .npy header");
  const char open = header[begin];
  if (open == '\'' || open == '(') {
    const char close = open == '(' ? ')' : '\'';
    const size_t end = header.find(close, begin + 1);
    if (end == std::string::npos) throw std::runtime_error(path + ": bad .npy header");
    return header.substr(begin + 1, end - begin - 1);
  }
  const size_t end = header.find_first_of(",}", begin);
  return header.substr(begin, end - begin);
}

}  // namespace npy_detail

inline NpyArray read_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open");
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) {
    throw std::runtime_error(path + ": not a .npy file");
  }
  const int major = static_cast<unsigned char>(bytes[6]);
  size_t header_len = 0;
  size_t header_at = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) |
                 (static_cast<size_t>(static_cast<unsigned char>(bytes[9])) << 8);
    header_at = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) throw std::runtime_error(path + ": truncated .npy header");
    for (int i = 3; i >= 0; --i) {
      header_len = (header_len << 8) | static_cast<unsigned char>(bytes[8 + i]);
    }
    header_at = 12;
  } else {
    throw std::runtime_error(path + ": unknown .npy version " + std::to_string(major));
  }
  if (header_at + header_len > bytes.size()) throw std::runtime_error(path + ": truncated");
  const std::string header = bytes.substr(header_at, header_len);

  const std::string descr = npy_detail::field_text(header, "descr", path);
  const std::string order = npy_detail::field_text(header, "fortran_order", path);
  if (order.find("False") == std::string::npos) {
    throw std::runtime_error(path + ": Fortran-ordered .npy is not supported here");
  }
  size_t item = 0;
  if (descr == "<f4") {
    item = 4;
  } else if (descr == "<f8") {
    item = 8;
  } else {
    throw std::runtime_error(path + ": dtype " + descr + ", expected <f4 or <f8");
  }

  NpyArray a;
  const std::string shape = npy_detail::field_text(header, "shape", path);
  size_t count = 1;
  size_t pos = 0;
  while (pos < shape.size()) {
    while (pos < shape.size() && (shape[pos] == ' ' || shape[pos] == ',')) ++pos;
    if (pos >= shape.size()) break;
    size_t used = 0;
    const int64_t d = std::stoll(shape.substr(pos), &used);
    a.shape.push_back(d);
    count *= static_cast<size_t>(d);
    pos += used;
  }

  const size_t data_at = header_at + header_len;
  if (bytes.size() - data_at != count * item) {
    throw std::runtime_error(path + ": " + std::to_string(bytes.size() - data_at) +
                             " data bytes for " + std::to_string(count) + " elements of " +
                             descr);
  }
  a.values.resize(count);
  for (size_t i = 0; i < count; ++i) {
    if (item == 4) {
      float f;
      std::memcpy(&f, bytes.data() + data_at + 4 * i, 4);
      a.values[i] = f;
    } else {
      std::memcpy(&a.values[i], bytes.data() + data_at + 8 * i, 8);
    }
  }
  return a;
}

// A version-1 float32 .npy whose data starts 64-byte aligned, as numpy writes it.
inline void write_npy_f32(const std::string& path, const std::vector<int64_t>& shape,
                          const std::vector<float>& values) {
  std::string dims;
  for (size_t i = 0; i < shape.size(); ++i) dims += (i ? ", " : "") + std::to_string(shape[i]);
  if (shape.size() == 1) dims += ",";  // Python's one-element tuple
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::ofstream out(path, std::ios::binary);
  out.write("\x93NUMPY\x01\x00", 8);
  const uint16_t len = static_cast<uint16_t>(header.size());
  const char len_bytes[2] = {static_cast<char>(len & 0xff), static_cast<char>(len >> 8)};
  out.write(len_bytes, 2);
  out << header;
  out.write(reinterpret_cast<const char*>(values.data()),
            static_cast<std::streamsize>(values.size() * sizeof(float)));
  if (!out) throw std::runtime_error(path + ": write failed");
}

}  // namespace thaw::testing
