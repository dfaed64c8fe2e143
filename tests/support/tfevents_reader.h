#pragma once
// A reader of TensorBoard event files for tests, written from the formats' descriptions (TFRecord
// framing; protocol-buffer wire format; tensorflow.Event and Summary field numbers) and sharing
// no code with the writer: its CRC-32C is computed bit by bit from the reflected Castagnoli
// polynomial 0x82f63b78, not with Boost's table. Anything malformed fails the calling test.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace thaw::testkit {

inline uint32_t bitwise_crc32c(std::string_view bytes) {
  uint32_t c = 0xffffffffu;
  for (unsigned char b : bytes) {
    c ^= b;
    for (int i = 0; i < 8; ++i) c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1u)));
  }
  return c ^ 0xffffffffu;
}

inline uint32_t bitwise_masked_crc32c(std::string_view bytes) {
  const uint32_t c = bitwise_crc32c(bytes);
  return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}

struct TfEvent {
  double wall_time = 0;
  int64_t step = 0;
  std::string file_version;
  std::vector<std::pair<std::string, float>> values;  // Summary.Value tag and simple_value
};

namespace tfevents_detail {

inline uint64_t le(std::string_view s, size_t at, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(s[at + i])) << (8 * i);
  return v;
}

// One message's fields: (field number, wire type, varint or fixed value, bytes for type 2).
struct Field {
  int number = 0, type = 0;
  uint64_t value = 0;
  std::string_view bytes;
};

inline std::vector<Field> fields(std::string_view m) {
  std::vector<Field> out;
  size_t i = 0;
  const auto varint = [&]() {
    uint64_t v = 0;
    for (int shift = 0;; shift += 7) {
      if (i >= m.size() || shift > 63) {
        ADD_FAILURE() << "truncated varint";
        return v;
      }
      const auto b = static_cast<unsigned char>(m[i++]);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
  };
  while (i < m.size()) {
    const uint64_t k = varint();
    Field f;
    f.number = static_cast<int>(k >> 3);
    f.type = static_cast<int>(k & 7);
    if (f.type == 0) {
      f.value = varint();
    } else if (f.type == 1 || f.type == 5) {
      const int n = f.type == 1 ? 8 : 4;
      if (i + n > m.size()) {
        ADD_FAILURE() << "truncated fixed field";
        return out;
      }
      f.value = le(m, i, n);
      i += n;
    } else if (f.type == 2) {
      const uint64_t n = varint();
      if (n > m.size() - i) {
        ADD_FAILURE() << "truncated bytes field";
        return out;
      }
      f.bytes = m.substr(i, n);
      i += n;
    } else {
      ADD_FAILURE() << "wire type " << f.type;
      return out;
    }
    out.push_back(f);
  }
  return out;
}

}  // namespace tfevents_detail

inline std::vector<TfEvent> read_tfevents(std::string_view file) {
  using namespace tfevents_detail;
  std::vector<TfEvent> events;
  size_t at = 0;
  while (at < file.size()) {
    if (file.size() - at < 12) {
      ADD_FAILURE() << "a record header cut at byte " << at;
      return events;
    }
    const uint64_t n = le(file, at, 8);
    EXPECT_EQ(le(file, at + 8, 4), bitwise_masked_crc32c(file.substr(at, 8))) << "length CRC at byte " << at;
    if (n > file.size() - at - 16) {
      ADD_FAILURE() << "a record cut at byte " << at;
      return events;
    }
    const std::string_view payload = file.substr(at + 12, n);
    EXPECT_EQ(le(file, at + 12 + n, 4), bitwise_masked_crc32c(payload)) << "payload CRC at byte " << at;
    at += 16 + n;
    TfEvent e;
    for (const Field& f : fields(payload)) {
      if (f.number == 1 && f.type == 1) std::memcpy(&e.wall_time, &f.value, 8);
      if (f.number == 2 && f.type == 0) e.step = static_cast<int64_t>(f.value);
      if (f.number == 3 && f.type == 2) e.file_version = std::string(f.bytes);
      if (f.number == 5 && f.type == 2) {
        for (const Field& v : fields(f.bytes)) {
          if (v.number != 1 || v.type != 2) continue;
          std::pair<std::string, float> tv;
          for (const Field& x : fields(v.bytes)) {
            if (x.number == 1 && x.type == 2) tv.first = std::string(x.bytes);
            if (x.number == 2 && x.type == 5) {
              const auto bits = static_cast<uint32_t>(x.value);
              std::memcpy(&tv.second, &bits, 4);
            }
          }
          e.values.push_back(tv);
        }
      }
    }
    events.push_back(std::move(e));
  }
  return events;
}

}  // namespace thaw::testkit
