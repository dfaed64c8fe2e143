#include "io/npy.h"

#include <array>
#include <bit>
#include <cstring>
#include <optional>

#include "core/error.h"
#include "io/atomic_file.h"
#include "io/file_bytes.h"
#include "io/dtype_convert.h"

namespace thaw {

static_assert(std::endian::native == std::endian::little, "only little-endian .npy files are supported; so is every host");

namespace {

constexpr std::string_view kMagic = "\x93NUMPY";
constexpr size_t kPreludeV1 = 10;  // magic, 2 version bytes, 16-bit header length
constexpr size_t kPreludeV2 = 12;  // magic, 2 version bytes, 32-bit header length

struct Descr {
  std::string_view text;
  DType dtype;
};
constexpr std::array<Descr, 6> kDescrs{{
    {"<f4", DType::F32},
    {"<f8", DType::F64},
    {"<f2", DType::F16},
    {"<i4", DType::I32},
    {"<i8", DType::I64},
    {"|u1", DType::U8},
}};
constexpr std::string_view kDescrList = "'<f4', '<f8', '<f2', '<i4', '<i8', '|u1'";

std::optional<DType> dtype_of_descr(std::string_view d) {
  for (const Descr& x : kDescrs)
    if (x.text == d) return x.dtype;
  return std::nullopt;
}

std::string_view descr_of_dtype(DType t) {
  for (const Descr& x : kDescrs)
    if (x.dtype == t) return x.text;
  fail_internal(".npy cannot hold dtype ", dtype_name(t));
}

std::string one_line(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 200)) out += (static_cast<unsigned char>(c) < 0x20) ? ' ' : c;
  return out;
}

// The header is a Python dict literal; numpy only ever writes strings, booleans and tuples of
// integers into it, so that is all this reader understands.
class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& origin) : text_(text), origin_(origin) {}

  struct Fields {
    std::optional<std::string> descr;
    std::optional<bool> fortran_order;
    std::optional<Shape> shape;
  };

  Fields parse() {
    Fields f;
    expect('{');
    while (true) {
      skip_space();
      if (peek() == '}') break;
      const std::string key = parse_string();
      expect(':');
      skip_space();
      if (key == "descr") {
        if (peek() != '\'' && peek() != '"') fail("'descr' is not a simple type string (structured arrays are not supported)");
        f.descr = parse_string();
      } else if (key == "fortran_order") {
        f.fortran_order = parse_bool();
      } else if (key == "shape") {
        f.shape = parse_tuple();
      } else {
        fail("unexpected key '" + key + "'");
      }
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() != '}') fail("expected ',' or '}'");
    }
    ++pos_;
    skip_space();
    if (pos_ != text_.size()) fail("text after the closing '}'");
    if (!f.descr || !f.fortran_order || !f.shape) fail("it needs 'descr', 'fortran_order' and 'shape'");
    return f;
  }

 private:
  [[noreturn]] void fail(const std::string& why) const {
    fail_user(origin_, ": malformed .npy header (", why, "): ", one_line(text_));
  }
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }
  void expect(char c) {
    skip_space();
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++pos_;
  }
  std::string parse_string() {
    skip_space();
    const char quote = peek();
    if (quote != '\'' && quote != '"') fail("expected a quoted string");
    const size_t end = text_.find(quote, pos_ + 1);
    if (end == std::string_view::npos) fail("unterminated string");
    std::string s(text_.substr(pos_ + 1, end - pos_ - 1));
    pos_ = end + 1;
    return s;
  }
  bool parse_bool() {
    if (text_.substr(pos_, 4) == "True") {
      pos_ += 4;
      return true;
    }
    if (text_.substr(pos_, 5) == "False") {
      pos_ += 5;
      return false;
    }
    fail("'fortran_order' is not True or False");
  }
  Shape parse_tuple() {
    if (peek() != '(') fail("'shape' is not a tuple");
    ++pos_;
    Shape s;
    while (true) {
      skip_space();
      if (peek() == ')') break;
      if (peek() < '0' || peek() > '9') fail("'shape' holds something other than non-negative integers");
      int64_t v = 0;
      while (peek() >= '0' && peek() <= '9') {
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, peek() - '0', &v)) fail("'shape' entry too large");
        ++pos_;
      }
      if (peek() == 'L') ++pos_;  // Python 2 long suffix, found in old files
      s.push_back(v);
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() != ')') fail("expected ',' or ')' in 'shape'");
    }
    ++pos_;
    return s;
  }

  std::string_view text_;
  const std::string& origin_;
  size_t pos_ = 0;
};

}  // namespace

std::vector<float> NpyArray::to_float() const { return convert_elements<float>(dtype, bytes); }
std::vector<double> NpyArray::to_double() const { return convert_elements<double>(dtype, bytes); }
std::vector<int64_t> NpyArray::to_int64() const {
  if (dtype_is_float(dtype)) fail_user(origin, ": array has dtype ", descr_of_dtype(dtype), ", expected an integer dtype");
  return convert_elements<int64_t>(dtype, bytes);
}

NpyArray read_npy(const std::filesystem::path& path) { return parse_npy(read_file_bytes(path), path.string()); }

NpyArray parse_npy(const std::string& bytes, const std::string& origin) {
  auto fail = [&origin](const auto&... args) { fail_user(origin, ": ", args...); };
  if (bytes.size() < kPreludeV1 || std::string_view(bytes).substr(0, kMagic.size()) != kMagic)
    fail("not a .npy file (no \\x93NUMPY magic at the start)");
  const auto* base = reinterpret_cast<const uint8_t*>(bytes.data());
  const int major = base[6], minor = base[7];
  size_t prelude = 0;
  uint64_t header_len = 0;
  if (major == 1 && minor == 0) {
    prelude = kPreludeV1;
    header_len = load_le<uint16_t>(base + 8);
  } else if ((major == 2 || major == 3) && minor == 0) {
    if (bytes.size() < kPreludeV2) fail("truncated .npy header");
    prelude = kPreludeV2;
    header_len = load_le<uint32_t>(base + 8);
  } else {
    fail("unsupported .npy format version ", major, ".", minor, ", expected 1.0, 2.0 or 3.0");
  }
  if (header_len > bytes.size() - prelude)
    fail("truncated .npy header: it claims ", header_len, " bytes, the file has ", bytes.size() - prelude, " after the prelude");

  const auto fields = HeaderParser(std::string_view(bytes).substr(prelude, header_len), origin).parse();
  const auto dtype = dtype_of_descr(*fields.descr);
  if (!dtype) fail("unsupported dtype '", *fields.descr, "', expected one of ", kDescrList, " (little-endian)");
  if (*fields.fortran_order)
    fail("array is in Fortran order (fortran_order: True), expected C order; save it with np.ascontiguousarray");

  NpyArray a{origin, *dtype, *fields.shape, {}};
  uint64_t need = dtype_size(*dtype);
  bool overflow = false;
  for (int64_t d : a.shape) overflow = overflow || __builtin_mul_overflow(need, static_cast<uint64_t>(d), &need);
  const uint64_t have = bytes.size() - prelude - header_len;
  if (overflow || have != need)
    fail("data has ", have, " bytes, expected ", overflow ? "an impossible size" : std::to_string(need), " for ", *fields.descr,
         " ", shape_str(a.shape), have < need ? " (truncated)" : "");
  a.bytes.assign(base + prelude + header_len, base + bytes.size());
  return a;
}

std::string serialize_npy(DType dtype, const Shape& shape, const void* data) {
  std::string dict = cat_str("{'descr': '", descr_of_dtype(dtype), "', 'fortran_order': False, 'shape': (");
  for (size_t i = 0; i < shape.size(); ++i) {
    THAW_CHECK(shape[i] >= 0, "negative shape ", shape_str(shape));
    dict += cat_str(i ? ", " : "", shape[i]);
  }
  dict += shape.size() == 1 ? ",), }" : "), }";
  // numpy pads with spaces and ends with a newline so that the data start 64-byte aligned.
  auto padded_total = [&](size_t prelude) { return (prelude + dict.size() + 1 + 63) / 64 * 64; };
  const bool v1 = padded_total(kPreludeV1) - kPreludeV1 <= 65535;
  const size_t prelude = v1 ? kPreludeV1 : kPreludeV2;
  const size_t total = padded_total(prelude);
  dict.append(total - prelude - dict.size() - 1, ' ');
  dict += '\n';

  std::string out(kMagic);
  out += static_cast<char>(v1 ? 1 : 2);
  out += '\0';
  if (v1) {
    const uint16_t len = static_cast<uint16_t>(dict.size());
    out.append(reinterpret_cast<const char*>(&len), 2);
  } else {
    const uint32_t len = static_cast<uint32_t>(dict.size());
    out.append(reinterpret_cast<const char*>(&len), 4);
  }
  out += dict;
  const size_t n = static_cast<size_t>(shape_numel(shape)) * dtype_size(dtype);
  THAW_CHECK(n == 0 || data != nullptr, "no data for a non-empty .npy array");
  if (n > 0) out.append(static_cast<const char*>(data), n);
  return out;
}

void write_npy(const std::filesystem::path& path, DType dtype, const Shape& shape, const void* data) {
  write_file_atomic(path, serialize_npy(dtype, shape, data));
}

void write_npy(const std::filesystem::path& path, const Shape& shape, std::span<const float> data) {
  THAW_CHECK(static_cast<int64_t>(data.size()) == shape_numel(shape), "write_npy ", path.string(), ": ", data.size(),
             " values for shape ", shape_str(shape));
  write_npy(path, DType::F32, shape, data.data());
}

}  // namespace thaw
