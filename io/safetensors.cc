#include "io/safetensors.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <unordered_set>

#include "core/error.h"
#include "io/atomic_file.h"
#include "io/file_bytes.h"
#include "io/dtype_convert.h"

namespace thaw {

static_assert(std::endian::native == std::endian::little, "safetensors data is little-endian; so is every supported host");

namespace {

// A sorted map, not ordered_json: its insertion-ordered map looks keys up linearly, which made a
// header of n tensors cost n^2 (100k tensors: 51 s). The header's order is kept apart (HeaderKeys).
using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;  // what the writer writes: the caller's order

constexpr std::string_view kMetadataKey = "__metadata__";
constexpr std::string_view kKnownDTypes = "F32, F64, F16, BF16, I64, I32, U8";

// JSON parser messages may quote raw header bytes; keep the error to one printable line.
std::string one_line(std::string_view s, size_t max_len = 200) {
  std::string out;
  for (char c : s.substr(0, max_len)) out += (static_cast<unsigned char>(c) < 0x20) ? ' ' : c;
  if (s.size() > max_len) out += "...";
  return out;
}

struct Span {
  std::string name;
  uint64_t begin;
  uint64_t end;
};

}  // namespace

SafeTensorsFile SafeTensorsFile::read(const std::filesystem::path& path) {
  // The header's length first: a file whose header is over the cap is refused before it is read.
  require_regular_file(path);  // an ifstream would wait on a pipe
  std::ifstream in(path, std::ios::binary);
  unsigned char len[8] = {};
  if (in.read(reinterpret_cast<char*>(len), sizeof len) && load_le<uint64_t>(len) > kMaxHeaderBytes) {
    fail_user(path.string(), ": header of ", load_le<uint64_t>(len), " bytes is larger than the ", kMaxHeaderBytes,
              " bytes safetensors allows");
  }
  return parse(read_file_bytes(path), path.string());
}

namespace {

// The header's JSON object and its top-level keys in the file's order; duplicate names (which the
// spec forbids and the JSON library would quietly merge) and anything but an object are errors.
struct Header {
  Json json;
  std::vector<std::string> keys;  // in the file's order
};

// Records the top-level keys in the file's order. nlohmann's callback parser would do the same but
// costs n^2 in the number of keys (50k tensors: 20 s); a SAX pass is linear.
class TopLevelKeys : public nlohmann::json_sax<Json> {
 public:
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return ++depth_, true; }
  bool end_object() override { return --depth_, true; }
  bool start_array(std::size_t) override { return ++depth_, true; }
  bool end_array() override { return --depth_, true; }
  bool key(string_t& k) override {
    if (depth_ == 1) {
      if (!seen_.insert(k).second && duplicate_.empty()) duplicate_ = k;
      keys_.push_back(k);
    }
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    error_ = e.what();
    return false;
  }

  std::vector<std::string> keys_;
  std::unordered_set<std::string> seen_;
  std::string duplicate_, error_;

 private:
  int depth_ = 0;
};

Header parse_header(std::string_view text, const std::string& origin) {
  // The parser stops at a NUL as at the end of its input: a header of "{}" and NUL bytes would pass.
  if (const size_t nul = text.find('\0'); nul != std::string_view::npos) {
    fail_user(origin, ": header holds a NUL byte at offset ", nul, "; only JSON and trailing spaces may follow");
  }
  TopLevelKeys sax;
  if (!Json::sax_parse(text.begin(), text.end(), &sax)) {
    fail_user(origin, ": malformed JSON header: ", one_line(sax.error_));
  }
  Header h;
  h.json = Json::parse(text.begin(), text.end(), nullptr, false);
  if (!h.json.is_object()) fail_user(origin, ": header is not a JSON object");
  if (!sax.duplicate_.empty()) fail_user(origin, ": tensor '", sax.duplicate_, "' appears twice in the header");
  h.keys = std::move(sax.keys_);
  return h;
}

// One tensor's entry, checked: a known dtype, a shape of non-negative integers, and data offsets
// inside the data section spanning exactly the bytes that dtype and shape need.
SafeTensorInfo parse_entry(const std::string& name, const Json& entry, const uint8_t* data, uint64_t data_size,
                           Span& span, const std::string& origin) {
  auto fail = [&origin](const auto&... args) { fail_user(origin, ": ", args...); };
  if (!entry.is_object()) fail("entry for tensor '", name, "' is not a JSON object");
  const auto dt = entry.find("dtype");
  if (dt == entry.end() || !dt->is_string()) fail("tensor '", name, "' has no string \"dtype\"");
  const auto dtype = dtype_from_name(dt->get<std::string>());
  if (!dtype) fail("tensor '", name, "' has unsupported dtype '", dt->get<std::string>(), "', expected one of ", kKnownDTypes);

  const auto sh = entry.find("shape");
  if (sh == entry.end() || !sh->is_array()) fail("tensor '", name, "' has no \"shape\" array");
  Shape shape;
  uint64_t need = dtype_size(*dtype);
  bool overflow = false;
  for (const auto& d : *sh) {
    if (!d.is_number_unsigned() || d.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
      fail("tensor '", name, "' has a shape entry that is not a non-negative integer: ", one_line(d.dump()));
    shape.push_back(static_cast<int64_t>(d.get<uint64_t>()));
    overflow = overflow || __builtin_mul_overflow(need, d.get<uint64_t>(), &need);
  }

  const auto off = entry.find("data_offsets");
  if (off == entry.end() || !off->is_array() || off->size() != 2 || !(*off)[0].is_number_unsigned() ||
      !(*off)[1].is_number_unsigned())
    fail("tensor '", name, "' has no \"data_offsets\" pair of non-negative integers");
  const uint64_t begin = (*off)[0].get<uint64_t>();
  const uint64_t end = (*off)[1].get<uint64_t>();
  if (begin > end || end > data_size)
    fail("tensor '", name, "' has data_offsets [", begin, ", ", end, "] outside the data section of ", data_size, " bytes");
  if (overflow || end - begin != need)
    fail("tensor '", name, "' has ", end - begin, " bytes, expected ", overflow ? "an impossible size" : std::to_string(need),
         " for ", dt->get<std::string>(), " ", shape_str(shape));
  span = {name, begin, end};
  return SafeTensorInfo{*dtype, std::move(shape), {data + begin, static_cast<size_t>(end - begin)}};
}

// The data section must be covered exactly: no overlaps, no holes, nothing left over.
void check_coverage(std::vector<Span> spans, uint64_t data_size, const std::string& origin) {
  auto fail = [&origin](const auto&... args) { fail_user(origin, ": ", args...); };
  std::sort(spans.begin(), spans.end(),
            [](const Span& a, const Span& b) { return a.begin != b.begin ? a.begin < b.begin : a.end < b.end; });
  uint64_t covered = 0;
  const Span* last = nullptr;
  for (const Span& s : spans) {
    if (s.begin < covered)
      fail("tensors '", last->name, "' and '", s.name, "' overlap (bytes [", last->begin, ", ", last->end, ") and [", s.begin,
           ", ", s.end, "))");
    if (s.begin > covered) fail("data section has a hole at bytes [", covered, ", ", s.begin, ") before tensor '", s.name, "'");
    if (s.end > covered || !last) {
      covered = s.end;
      last = &s;
    }
  }
  if (covered != data_size) fail("data section has ", data_size, " bytes but the tensors cover only ", covered);
}

}  // namespace

SafeTensorsFile SafeTensorsFile::parse(std::string bytes_in, const std::string& origin) {
  auto fail = [&origin](const auto&... args) { fail_user(origin, ": ", args...); };

  SafeTensorsFile f;
  f.origin_ = origin;
  f.bytes_ = std::make_unique<const std::string>(std::move(bytes_in));
  const std::string& bytes = *f.bytes_;
  const auto* base = reinterpret_cast<const uint8_t*>(bytes.data());

  if (bytes.size() < 8) fail("file is ", bytes.size(), " bytes, too short for a safetensors file (8-byte header length first)");
  const uint64_t header_len = load_le<uint64_t>(base);
  if (header_len > kMaxHeaderBytes) {
    fail("header of ", header_len, " bytes is larger than the ", kMaxHeaderBytes, " bytes safetensors allows");
  }
  if (header_len > bytes.size() - 8)
    fail("header length ", header_len, " runs past the end of the file (", bytes.size(), " bytes); not a safetensors file or truncated");
  const uint64_t data_size = bytes.size() - 8 - header_len;
  const uint8_t* data = base + 8 + header_len;
  const Header header = parse_header(std::string_view(bytes.data() + 8, header_len), origin);

  std::vector<Span> spans;
  spans.reserve(header.keys.size());
  for (const std::string& name : header.keys) {
    const Json& entry = header.json.find(name).value();
    if (name == kMetadataKey) {
      if (!entry.is_object()) fail("__metadata__ is not a JSON object");
      for (const auto& [k, v] : entry.items()) {
        if (!v.is_string()) fail("__metadata__ value for '", k, "' is not a string");
        f.metadata_[k] = v.get<std::string>();
      }
      continue;
    }
    Span span;
    SafeTensorInfo info = parse_entry(name, entry, data, data_size, span, origin);
    f.names_.push_back(name);
    f.tensors_.emplace(name, std::move(info));
    spans.push_back(std::move(span));
  }
  check_coverage(std::move(spans), data_size, origin);
  return f;
}

bool SafeTensorsFile::has(std::string_view name) const { return tensors_.find(name) != tensors_.end(); }

const SafeTensorInfo& SafeTensorsFile::info(std::string_view name) const {
  const auto it = tensors_.find(name);
  if (it == tensors_.end()) fail_user(origin_, ": no tensor named '", name, "'");
  return it->second;
}

const SafeTensorInfo& SafeTensorsFile::float_info(std::string_view name) const {
  const SafeTensorInfo& i = info(name);
  if (!dtype_is_float(i.dtype))
    fail_user(origin_, ": tensor '", name, "' has dtype ", dtype_name(i.dtype), ", expected a float dtype (F32, F64, F16, BF16)");
  return i;
}

std::vector<float> SafeTensorsFile::to_float(std::string_view name) const {
  const SafeTensorInfo& i = float_info(name);
  return convert_elements<float>(i.dtype, i.bytes);
}
std::vector<double> SafeTensorsFile::to_double(std::string_view name) const {
  const SafeTensorInfo& i = float_info(name);
  return convert_elements<double>(i.dtype, i.bytes);
}

std::vector<int64_t> SafeTensorsFile::to_int64(std::string_view name) const {
  const SafeTensorInfo& i = info(name);
  if (dtype_is_float(i.dtype))
    fail_user(origin_, ": tensor '", name, "' has dtype ", dtype_name(i.dtype), ", expected an integer dtype (I64, I32, U8)");
  return convert_elements<int64_t>(i.dtype, i.bytes);
}

namespace {

template <typename T>
Tensor<T> make_tensor(const SafeTensorInfo& info, std::vector<T> values) {
  Tensor<T> t(info.shape);
  std::copy(values.begin(), values.end(), t.data());
  return t;
}

void check_shape(const std::string& origin, std::string_view name, const Shape& actual, const Shape& expected) {
  if (actual != expected)
    fail_user(origin, ": tensor '", name, "' has shape ", shape_str(actual), ", expected ", shape_str(expected));
}

}  // namespace

Tensor<float> SafeTensorsFile::tensor_float(std::string_view name) const {
  return make_tensor(info(name), to_float(name));
}
Tensor<float> SafeTensorsFile::tensor_float(std::string_view name, const Shape& expected) const {
  check_shape(origin_, name, info(name).shape, expected);
  return tensor_float(name);
}
Tensor<double> SafeTensorsFile::tensor_double(std::string_view name) const {
  return make_tensor(info(name), to_double(name));
}
Tensor<double> SafeTensorsFile::tensor_double(std::string_view name, const Shape& expected) const {
  check_shape(origin_, name, info(name).shape, expected);
  return tensor_double(name);
}

void SafeTensorsWriter::add(std::string name, DType dtype, Shape shape, const void* data) {
  THAW_CHECK(name != kMetadataKey, "a tensor cannot be named ", kMetadataKey);
  for (const Entry& e : entries_) THAW_CHECK(e.name != name, "tensor '", name, "' added twice");
  for (int64_t d : shape) THAW_CHECK(d >= 0, "tensor '", name, "' has negative shape ", shape_str(shape));
  const size_t n = static_cast<size_t>(shape_numel(shape)) * dtype_size(dtype);
  THAW_CHECK(n == 0 || data != nullptr, "tensor '", name, "' has no data");
  const auto* p = static_cast<const uint8_t*>(data);
  entries_.push_back({std::move(name), dtype, std::move(shape), std::vector<uint8_t>(p, p + n)});
}

std::string SafeTensorsWriter::header() const {
  OrderedJson h = OrderedJson::object();
  if (!metadata_.empty()) {
    OrderedJson m = OrderedJson::object();
    for (const auto& [k, v] : metadata_) m[k] = v;
    h[std::string(kMetadataKey)] = std::move(m);
  }
  uint64_t offset = 0;
  for (const Entry& e : entries_) {
    const uint64_t end = offset + e.bytes.size();
    h[e.name] = OrderedJson{{"dtype", dtype_name(e.dtype)}, {"shape", e.shape}, {"data_offsets", {offset, end}}};
    offset = end;
  }
  std::string text;
  try {
    text = h.dump();
  } catch (const OrderedJson::exception& e) {
    fail_internal("safetensors header: ", e.what());  // a name or metadata that is not UTF-8
  }
  // Pad with spaces (valid JSON whitespace) so the data section starts 8-byte aligned.
  text.append((8 - text.size() % 8) % 8, ' ');
  return text;
}

std::string SafeTensorsWriter::serialize() const {
  const std::string h = header();
  std::string out(8, '\0');
  const uint64_t len = h.size();
  std::memcpy(out.data(), &len, 8);
  out += h;
  for (const Entry& e : entries_) out.append(reinterpret_cast<const char*>(e.bytes.data()), e.bytes.size());
  return out;
}

void SafeTensorsWriter::write(const std::filesystem::path& path) const {
  const std::string h = header();
  write_file_atomic(path, [&](std::ostream& os) {
    const uint64_t len = h.size();
    char prefix[8];
    std::memcpy(prefix, &len, 8);
    os.write(prefix, 8);
    os << h;
    for (const Entry& e : entries_) os.write(reinterpret_cast<const char*>(e.bytes.data()), static_cast<std::streamsize>(e.bytes.size()));
  });
}

}  // namespace thaw
